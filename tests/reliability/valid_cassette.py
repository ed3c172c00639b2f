"""A valid cassette, as a document and as text: what the bad-cassette and loader-fuzz tests edit."""

from __future__ import annotations

import json
from typing import Any

from harness.cassette import format as fmt


def _valid_doc() -> dict[str, Any]:
    stream = "".join(f"event: delta\ndata: {json.dumps({'type': 'delta', 'k': k}, separators=(',', ':'))}\n\n" for k in range(3))
    sizes = [len(block) + 2 for block in stream.split("\n\n")[:-1]]
    return {
        "harness_cassette": 1,
        "interactions": [
            {
                "kind": "http",
                "request": {
                    "method": "POST",
                    "url": "http://127.0.0.1/v1/echo",
                    "headers": {"content-type": "application/json"},
                    "body": {"json": {"i": 1}},
                },
                "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": {"json": {"text": "hi"}}},
            },
            {
                "kind": "http",
                "request": {"method": "POST", "url": "http://127.0.0.1/v1/stream", "headers": {}, "body": {"json": {"i": 1}}},
                "response": {
                    "status": 200,
                    "headers": {"content-type": "text/event-stream"},
                    "body": {"sse": [{"event": "delta", "data": {"type": "delta", "k": k}} for k in range(3)]},
                    "chunks": [[size, 1.5 * n] for n, size in enumerate(sizes)],
                },
            },
            {"kind": "tool", "name": "get_weather", "input": {"city": "Paris"}, "result": "sunny"},
            {
                "kind": "mcp",
                "server": "python -m srv",
                "request": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "mcp", "version": "1"}},
                "result": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "srv", "version": "2"},
                },
            },
            {"kind": "mcp", "server": "python -m srv", "notify": "notifications/initialized"},
            {
                "kind": "mcp",
                "server": "python -m srv",
                "request": "tools/call",
                "params": {"name": "deploy", "arguments": {"env": "prod"}},
                "during": [
                    {"notify": "notifications/progress", "params": {"progressToken": 1, "progress": 1, "total": 2}},
                    {"notify": "notifications/message", "params": {"level": "info", "data": "starting"}},
                    {
                        "request": "elicitation/create",
                        "params": {"message": "Deploy?", "requestedSchema": {"properties": {"ok": {"type": "boolean"}}}},
                        "answer": {"result": {"action": "accept", "content": {"ok": True}}},
                    },
                ],
                "result": {
                    "content": [
                        {"type": "text", "text": "deployed"},
                        {"type": "image", "mimeType": "image/png", "data": "iVBORw0KGgo="},
                    ],
                    "structuredContent": {"ok": True},
                    "isError": False,
                },
            },
            {
                "kind": "mcp",
                "server": "python -m srv",
                "request": "tools/call",
                "params": {"name": "nope", "arguments": {}},
                "error": {"code": -32602, "message": "Unknown tool: nope"},
            },
        ],
    }


def _valid_text() -> str:
    return fmt.dumps(fmt.loads(json.dumps(_valid_doc()), "valid.json"))
