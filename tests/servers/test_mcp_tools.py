"""The MCP test server against the real ``mcp`` client, no harness involved.

Covers both ways a client is built in mcp 2.x:

* ``mcp.Client`` (the modern entry point: a URL, ``StdioServerParameters``, a ``Transport`` or an in-process
  server), in ``mode="auto"`` (``server/discover`` -> 2026-07-28) and ``mode="legacy"`` (``initialize`` ->
  2025-11-25);
* ``ClientSession(read, write)`` over a raw transport's stream pair (``stdio_client``, ``streamable_http_client``),
  the shape older agents use, which only does the legacy ``initialize`` handshake.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client, ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from pydantic import FileUrl

from tests.servers.mcp_tools import McpHttpServer, build_server, tiny_png

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def http_server() -> Any:
    with McpHttpServer() as server:
        yield server


def stdio_params() -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "tests.servers.mcp_tools"], cwd=str(ROOT))


class Recorder:
    """The client-side callbacks, remembering what they saw."""

    def __init__(self, answer: bool = True) -> None:
        self.answer = answer
        self.elicitations: list[types.ElicitRequestParams] = []
        self.logs: list[types.LoggingMessageNotificationParams] = []
        self.progress: list[tuple[float, float | None, str | None]] = []
        self.sampled: list[types.CreateMessageRequestParams] = []
        self.tools_changed = anyio.Event()

    async def sample(self, context: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        self.sampled.append(params)
        return types.CreateMessageResult(role="assistant", content=types.TextContent(text="A short summary."), model="fake-model")

    async def roots(self, context: Any) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri=FileUrl("file:///work/project"), name="project")])

    async def on_message(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self.tools_changed.set()

    async def elicit(self, context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.elicitations.append(params)
        return types.ElicitResult(action="accept", content={"confirm": self.answer})

    async def log(self, params: types.LoggingMessageNotificationParams) -> None:
        self.logs.append(params)

    async def on_progress(self, progress: float, total: float | None, message: str | None) -> None:
        self.progress.append((progress, total, message))


def text_of(result: types.CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


# --- shared assertions ---------------------------------------------------------------------------------------------


async def check_listings(session: Client | ClientSession) -> None:
    tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert {
        "echo",
        "add",
        "forecast",
        "image",
        "fail",
        "fail_protocol",
        "slow_count",
        "confirm",
        "log",
        "summarize",
        "roots",
        "reload_tools",
    } <= set(tools)
    assert tools["echo"].output_schema is None
    assert tools["forecast"].output_schema is not None
    assert tools["forecast"].output_schema["properties"]["humidity"]["maximum"] == 100

    resources = (await session.list_resources()).resources
    assert [(str(r.uri), r.name, r.mime_type) for r in resources] == [("config://app", "app-config", "application/json")]
    read = await session.read_resource("config://app")
    assert len(read.contents) == 1
    assert isinstance(read.contents[0], types.TextResourceContents)
    assert read.contents[0].text == '{"feature": "on", "limit": 3}'

    prompts = (await session.list_prompts()).prompts
    assert [p.name for p in prompts] == ["review"]
    prompt = await session.get_prompt("review", {"code": "x = 1"})
    assert len(prompt.messages) == 1
    assert prompt.messages[0].role == "user"
    assert isinstance(prompt.messages[0].content, types.TextContent)
    assert prompt.messages[0].content.text == "Please review this code:\n\nx = 1"


async def check_simple_tools(session: Client | ClientSession) -> None:
    echo = await session.call_tool("echo", {"text": "héllo"})
    assert text_of(echo) == "héllo"
    assert echo.structured_content is None
    assert not echo.is_error

    add = await session.call_tool("add", {"a": 2, "b": 40})
    assert add.structured_content == {"result": 42}
    assert text_of(add) == "42"

    forecast = await session.call_tool("forecast", {"city": "Paris"})
    assert forecast.structured_content == {
        "city": "Paris",
        "temperature_c": 18.5,
        "conditions": "cloudy",
        "humidity": 70,
    }

    image = await session.call_tool("image", {})
    assert len(image.content) == 1
    block = image.content[0]
    assert isinstance(block, types.ImageContent)
    assert block.mime_type == "image/png"
    assert base64.b64decode(block.data) == tiny_png()

    fail = await session.call_tool("fail", {})
    assert fail.is_error
    assert text_of(fail) == "Error executing tool fail: this tool always fails"

    with pytest.raises(MCPError) as excinfo:
        await session.call_tool("fail_protocol", {})
    assert excinfo.value.code == types.INVALID_PARAMS
    assert excinfo.value.error.message == "fail_protocol always rejects the call"


async def check_progress(session: Client | ClientSession, rec: Recorder) -> None:
    result = await session.call_tool("slow_count", {"n": 3}, progress_callback=rec.on_progress)
    assert text_of(result) == "counted to 3"
    assert rec.progress == [(1, 3, "step 1/3"), (2, 3, "step 2/3"), (3, 3, "step 3/3")]


async def check_logging(session: Client | ClientSession, rec: Recorder) -> None:
    result = await session.call_tool("log", {"msg": "hi"})
    assert text_of(result) == "logged"
    assert [(p.level, p.logger, p.data) for p in rec.logs] == [
        ("info", "harness", "info: hi"),
        ("warning", "harness", "warning: hi"),
    ]


async def check_elicitation(session: Client | ClientSession, rec: Recorder) -> None:
    result = await session.call_tool("confirm", {"action": "deploy"})
    assert text_of(result) == "deploy: confirmed"
    assert len(rec.elicitations) == 1
    params = rec.elicitations[0]
    assert isinstance(params, types.ElicitRequestFormParams)
    assert params.message == "Confirm action: deploy?"
    assert params.requested_schema["properties"]["confirm"]["type"] == "boolean"

    rec.answer = False
    result = await session.call_tool("confirm", {"action": "drop"})
    assert text_of(result) == "drop: rejected"
    assert len(rec.elicitations) == 2


async def check_sampling_and_roots(session: Client | ClientSession, rec: Recorder) -> None:
    summary = await session.call_tool("summarize", {"text": "A very long text about invoices."})
    assert text_of(summary) == "A short summary."
    (params,) = rec.sampled
    assert params.system_prompt == "Summarize the text in one short sentence."
    assert isinstance(params.messages[0].content, types.TextContent)
    assert params.messages[0].content.text == "A very long text about invoices."
    assert text_of(await session.call_tool("roots", {})) == "file:///work/project"


async def check_tools_changed(session: Client | ClientSession, rec: Recorder, *, modern: bool) -> None:
    if not modern:
        # Handshake era: a plain notification, reaching the message handler.
        assert text_of(await session.call_tool("reload_tools", {})) == "reloaded"
        with anyio.fail_after(5):
            await rec.tools_changed.wait()
        return
    # 2026 era: only an open subscriptions/listen stream hears of it.
    assert isinstance(session, Client)
    async with session.listen(tools_list_changed=True) as subscription:
        assert subscription.honored.tools_list_changed is True
        assert text_of(await session.call_tool("reload_tools", {})) == "reloaded"
        with anyio.fail_after(5):
            event = await subscription.__anext__()
    assert type(event).__name__ == "ToolsListChanged"


async def exercise(session: Client | ClientSession, rec: Recorder, *, modern: bool) -> None:
    await check_listings(session)
    await check_simple_tools(session)
    await check_progress(session, rec)
    await check_logging(session, rec)
    await check_elicitation(session, rec)
    await check_sampling_and_roots(session, rec)
    await check_tools_changed(session, rec, modern=modern)
    if modern:
        # 2026-07-28 has no back-channel for a server-initiated request: a bare ctx.elicit() is refused.
        with pytest.raises(MCPError) as excinfo:
            await session.call_tool("confirm_direct", {"action": "x"})
        assert excinfo.value.code == types.INVALID_REQUEST
        assert "no back-channel" in excinfo.value.error.message
    else:
        rec.answer = True
        result = await session.call_tool("confirm_direct", {"action": "x"})
        assert text_of(result) == "x: confirmed"
        assert len(rec.elicitations) == 3


# --- mcp.Client ----------------------------------------------------------------------------------------------------


@asynccontextmanager
async def make_client(kind: str, mode: str, rec: Recorder, http_server: Any) -> AsyncIterator[Client]:
    target: Any
    if kind == "stdio":
        target = stdio_params()
    elif kind == "http":
        target = http_server.url  # a URL string: Client builds streamable_http_client(url) itself
    else:
        target = build_server()  # in-process
    client = Client(
        target,
        mode=mode,
        elicitation_callback=rec.elicit,
        logging_callback=rec.log,
        sampling_callback=rec.sample,
        list_roots_callback=rec.roots,
        message_handler=rec.on_message,
        # 2026-07-28 logging is a per-request opt-in; without it the server sends no notifications/message
        log_level="debug",
    )
    async with client:
        yield client


@pytest.mark.parametrize("mode", ["auto", "legacy"])
@pytest.mark.parametrize("kind", ["stdio", "http", "inproc"])
async def test_client(kind: str, mode: str, http_server: Any) -> None:
    rec = Recorder()
    async with make_client(kind, mode, rec, http_server) as client:
        if mode == "auto":
            assert client.protocol_version == "2026-07-28"
            assert client.session.discover_result is not None
            assert client.session.initialize_result is None
        else:
            assert client.protocol_version == "2025-11-25"
            assert client.session.initialize_result is not None
        assert client.server_info is not None
        assert client.server_info.name == "harness-test-tools"
        assert client.instructions == "Test server for the harness recorder."
        await exercise(client, rec, modern=mode == "auto")


# --- ClientSession over raw transports -----------------------------------------------------------------------------


@asynccontextmanager
async def raw_session(kind: str, rec: Recorder, http_server: Any) -> AsyncIterator[ClientSession]:
    transport = stdio_client(stdio_params()) if kind == "stdio" else streamable_http_client(http_server.url)
    async with transport as (read_stream, write_stream):
        session = ClientSession(
            read_stream,
            write_stream,
            elicitation_callback=rec.elicit,
            logging_callback=rec.log,
            sampling_callback=rec.sample,
            list_roots_callback=rec.roots,
            message_handler=rec.on_message,
        )
        async with session:
            yield session


@pytest.mark.parametrize("kind", ["stdio", "http"])
async def test_client_session_initialize(kind: str, http_server: Any) -> None:
    rec = Recorder()
    async with raw_session(kind, rec, http_server) as session:
        init = await session.initialize()
        assert init.protocol_version == "2025-11-25"
        assert init.server_info.name == "harness-test-tools"
        assert init.capabilities.tools is not None
        assert session.protocol_version == "2025-11-25"
        await exercise(session, rec, modern=False)


@pytest.mark.parametrize("kind", ["stdio", "http"])
async def test_client_session_discover(kind: str, http_server: Any) -> None:
    """A bare ClientSession can also speak 2026-07-28: ``discover()`` instead of ``initialize()``."""
    rec = Recorder()
    async with raw_session(kind, rec, http_server) as session:
        discovered = await session.discover()
        assert "2026-07-28" in discovered.supported_versions
        assert session.protocol_version == "2026-07-28"
        # The modern session has no log-level opt-in by default: logging notifications are not sent.
        result = await session.call_tool("log", {"msg": "quiet"})
        assert text_of(result) == "logged"
        assert rec.logs == []
        # ClientSession alone does not drive InputRequiredResult rounds (mcp.Client does).
        first = await session.call_tool("confirm", {"action": "deploy"}, allow_input_required=True)
        assert isinstance(first, types.InputRequiredResult)
        assert first.input_requests is not None
        ((key, request),) = first.input_requests.items()
        assert key.endswith(":ask_confirmation")
        assert isinstance(request, types.ElicitRequest)
        answer = types.ElicitResult(action="accept", content={"confirm": True})
        final = await session.call_tool(
            "confirm",
            {"action": "deploy"},
            input_responses={key: answer},
            request_state=first.request_state,
            allow_input_required=True,
        )
        assert isinstance(final, types.CallToolResult)
        assert text_of(final) == "deploy: confirmed"
        assert rec.elicitations == []  # the callback was never involved
