"""The seams: where harness cuts into the SDKs' traffic (HTTP transports, local tools, agent frameworks' tools, MCP streams).

Each seam is a small class built with the running ledger, with ``install()`` and ``uninstall()``;
:data:`SEAMS` lists them in the order a session installs them.
"""

from harness.seams.frameworks import FrameworkToolSeam
from harness.seams.http import HttpSeam
from harness.seams.mcp import McpSeam
from harness.seams.sessions import SessionSeam
from harness.seams.tool_dispatch import ToolDispatchSeam
from harness.seams.tools import ToolSeam
from harness.seams.websocket import WebSocketSeam

SEAMS = (HttpSeam, ToolSeam, ToolDispatchSeam, FrameworkToolSeam, McpSeam, SessionSeam, WebSocketSeam)
