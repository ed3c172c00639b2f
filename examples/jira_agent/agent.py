"""The seed's Jira agent, faithful and runnable: an OpenAI chat-completions tool loop over a Jira MCP
server (streamable HTTP), non-streamed, then the final summary streamed to the terminal under the seed's
``--- RÉSUMÉ (streaming) ---`` header. Same system prompt, same two phases, same parameters
(``tool_choice="auto"``, ``stream=False``, ``temperature=0.2``, ``max_tokens`` 800 then 900), same
``httpx.AsyncClient`` (proxy, ``follow_redirects=False``, 120 s timeout) handed to ``AsyncOpenAI``.

Configuration comes from the environment (no secret in the code):
``JIRA_MCP_URL`` (default ``http://localhost:20000/mcp``), ``LLM_BASE_URL``, ``LLM_API_KEY``, ``LLM_MODEL``
(default ``magistral-2509``), ``LLM_PROXY_URL`` (optional), ``LLM_INSECURE_TLS=1`` (optional).
``python -m examples.jira_agent.agent "Résume le ticket Jira PROJ-1 avec get_issue."``.

Deliberate differences from the seed:

* Fixes the current SDKs need: the assistant turn that asks for tools keeps its ``tool_calls`` (the API
  rejects ``tool`` messages that answer no call), and MCP content blocks are pydantic models, dumped before
  ``json.dumps`` (the seed's ``json.dumps(result.content)`` raises ``TypeError``).
* The seed's hard-coded key, URL, model and proxy come from the environment, and its request names a
  ticket (the seed's ``"Résume le ticket Jira ."`` has lost its key).
* TLS verification stays on unless ``LLM_INSECURE_TLS=1``: the seed's ``verify=False`` (for a proxy that
  intercepts TLS) is not a default to copy.
* ``streamable_http_client`` yields a ``(read, write)`` pair in mcp 2.x: the seed's fallbacks for older
  transports (objects with ``read_stream`` or ``streams``) are gone.
* ``run()`` takes the client, URL, request and model, and writes to ``out`` (the terminal by default), so
  a test can drive it; ``main()`` builds them from the environment, as the seed's ``main()`` does.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from contextlib import AsyncExitStack
from typing import Any

import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from openai import AsyncOpenAI

Message = dict[str, Any]

MODEL = "magistral-2509"

SYSTEM_PROMPT = """Tu es un assistant Jira.
Tu dois utiliser les outils Jira pour lire le ticket demandé et faire un résumé structuré en FR.

FORMAT:

TICKET: <clé + titre>

CONTEXTE:
...

OBJECTIF:
...

CRITÈRES D’ACCEPTATION:
- ...

ÉTAPES / RÈGLES MÉTIER:
- ...

POINTS D’ATTENTION:
- ...

Si tu n'arrives pas à récupérer le ticket, dis précisément quelle info manque (clé, projet, etc.).
"""


class MCPRemoteHTTP:
    """One MCP session over streamable HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._stack = AsyncExitStack()
        self.session: ClientSession | None = None

    async def __aenter__(self) -> MCPRemoteHTTP:
        read_stream, write_stream = await self._stack.enter_async_context(streamable_http_client(self.url))
        self.session = await self._stack.enter_async_context(ClientSession(read_stream, write_stream))
        await self.session.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def list_tools(self) -> list[Any]:
        assert self.session is not None
        return (await self.session.list_tools()).tools

    async def call_tool(self, name: str, args: dict[str, Any]) -> Any:
        assert self.session is not None
        return await self.session.call_tool(name, args)


def mcp_tools_to_openai_tools(mcp_tools: list[Any]) -> list[dict[str, Any]]:
    return [
        {"type": "function", "function": {"name": t.name, "description": t.description or "", "parameters": t.input_schema}}
        for t in mcp_tools
    ]


async def run_tool_call_loop(
    client: AsyncOpenAI, jira: MCPRemoteHTTP, tools: list[dict[str, Any]], messages: list[Message], model: str, max_steps: int = 6
) -> list[Message]:
    """Non-streamed model calls; run the tool calls on the MCP server until the model asks for none."""
    for _ in range(max_steps):
        response = await client.chat.completions.create(
            model=model, messages=messages, tools=tools, tool_choice="auto", stream=False, temperature=0.2, max_tokens=800
        )
        message = response.choices[0].message
        tool_calls = message.tool_calls or []
        turn: Message = {"role": "assistant", "content": message.content or ""}
        if tool_calls:
            turn["tool_calls"] = [tc.model_dump(exclude_none=True) for tc in tool_calls]
        messages.append(turn)
        if not tool_calls:
            return messages
        for tc in tool_calls:
            try:
                args = json.loads(tc.function.arguments or "{}")
            except json.JSONDecodeError:
                args = {}
            result = await jira.call_tool(tc.function.name, args)
            content = [block.model_dump(exclude_none=True) for block in result.content]
            messages.append({"role": "tool", "tool_call_id": tc.id, "content": json.dumps(content, ensure_ascii=False)})
    return messages


async def stream_final_answer(client: AsyncOpenAI, messages: list[Message], model: str, out: Any = sys.stdout) -> str:
    """Stream the summary to ``out`` as it comes (the seed prints it), and return it."""
    out.write("\n--- RÉSUMÉ (streaming) ---\n")
    out.flush()
    stream = await client.chat.completions.create(model=model, messages=messages, stream=True, temperature=0.2, max_tokens=900)
    pieces = []
    async for chunk in stream:
        if not chunk.choices:
            continue
        piece = chunk.choices[0].delta.content
        if piece:
            out.write(piece)
            out.flush()
            pieces.append(piece)
    out.write("\n\n")  # the seed's print("\n")
    return "".join(pieces).strip()


async def run(client: AsyncOpenAI, jira_url: str, request: str, model: str, out: Any = sys.stdout) -> tuple[list[Message], str]:
    async with MCPRemoteHTTP(jira_url) as jira:
        tools = mcp_tools_to_openai_tools(await jira.list_tools())
        messages: list[Message] = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": request}]
        messages = await run_tool_call_loop(client, jira, tools, messages, model)
        messages.append({"role": "user", "content": "Maintenant, donne le résumé final au format demandé."})
        return messages, await stream_final_answer(client, messages, model, out)


async def main(request: str) -> None:
    proxy_url = os.environ.get("LLM_PROXY_URL", "")
    proxy = httpx.Proxy(url=proxy_url) if proxy_url else None
    verify = os.environ.get("LLM_INSECURE_TLS") != "1"
    async with httpx.AsyncClient(proxy=proxy, verify=verify, follow_redirects=False, timeout=120.0) as http_client:
        client = AsyncOpenAI(api_key=os.environ["LLM_API_KEY"], base_url=os.environ["LLM_BASE_URL"], http_client=http_client)
        await run(
            client, os.environ.get("JIRA_MCP_URL", "http://localhost:20000/mcp"), request, os.environ.get("LLM_MODEL", MODEL)
        )


if __name__ == "__main__":
    asyncio.run(main(" ".join(sys.argv[1:]) or "Résume le ticket Jira PROJ-1 avec get_issue."))
