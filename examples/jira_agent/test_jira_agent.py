# ruff: noqa: RUF001  (French typography in the scripted model's words: typographic apostrophes, as the seed's prompt)
"""Replays the whole Jira agent run — both model phases and every MCP call — with neither the model
server nor the Jira MCP server running.

To re-record (``--record-mode=all``), the Jira MCP server and the fake model server are started on
loopback; the model's words in the two turns that matter are scripted by :func:`jira_model` so the
cassette reads like a real run (a French summary built from the ticket the tool returned). Set
``MODEL_URL`` to record against a real API instead.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openai import AsyncOpenAI

from examples.jira_agent import agent

NOWHERE = "http://127.0.0.1:9"
REQUEST = "Résume le ticket Jira PROJ-1 avec get_issue."
FINAL_REQUEST = "Maintenant, donne le résumé final au format demandé."

#: How the scripted model words the ticket's English lines in French (a line it has no wording for is
#: quoted as it is, as a model would).
FRENCH = {
    "accountants download invoices one by one from the billing page and rebuild them in a spreadsheet before "
    "sending them to customers.": "les comptables téléchargent les factures une par une depuis la page de facturation "
    "et les ressaisissent dans un tableur avant de les envoyer aux clients.",
    "let an accountant export any invoice as a PDF from the invoice detail page.": "permettre à un comptable "
    "d’exporter n’importe quelle facture en PDF depuis la page de détail de la facture.",
    "An 'Export PDF' button is shown on the invoice detail page.": "Un bouton « Export PDF » est affiché sur la page "
    "de détail de la facture.",
    "The PDF contains the company header, the invoice lines, VAT and the total.": "Le PDF contient l’en-tête de la "
    "société, les lignes de la facture, la TVA et le total.",
    "The file is named <invoice-number>.pdf.": "Le fichier est nommé <numéro-de-facture>.pdf.",
    "Only users with the 'accountant' role can export.": "Seuls les utilisateurs ayant le rôle « accountant » peuvent exporter.",
    "Draft invoices cannot be exported.": "Les factures en brouillon ne peuvent pas être exportées.",
    "amounts must use the customer's locale for the decimal separator.": "les montants doivent suivre la locale du "
    "client pour le séparateur décimal.",
    "The legal team asked for the VAT number to appear in the header.": "l’équipe juridique demande que le numéro "
    "de TVA figure dans l’en-tête.",
    "Started with the layout; the locale handling needs a decision.": "la mise en page est commencée ; la gestion "
    "de la locale reste à trancher.",
}


def french(line: str) -> str:
    return FRENCH.get(line, line)


def ticket_of(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The issue in the last ``get_issue`` result of the conversation (the agent sends MCP blocks as JSON)."""
    for message in reversed(messages):
        if message.get("role") == "tool":
            (block,) = json.loads(message["content"])
            ticket: dict[str, Any] = json.loads(block["text"])
            return ticket
    return None


def summary_of(ticket: dict[str, Any]) -> str:
    """The summary in the system prompt's format, from the ticket's fields and its description's sections."""
    sections: dict[str, list[str]] = {}
    heading = ""
    for line in ticket["description"].splitlines():
        if line.startswith("- "):
            sections.setdefault(heading, []).append(french(line[2:]))
        else:
            heading, _, rest = line.partition(": ") if ": " in line else (line.rstrip(":"), "", "")
            if rest:
                sections.setdefault(heading, []).append(french(rest))

    def capital(text: str) -> str:
        return text[:1].upper() + text[1:]

    def bullets(name: str) -> str:
        return "\n".join(f"- {capital(item)}" for item in sections.get(name, []))

    comments = [f"- Commentaire de {c['author']} : {french(c['body'])}" for c in ticket["comments"]]
    return "\n".join(
        [
            f"TICKET: {ticket['key']} — {ticket['summary']} ({ticket['issue_type']}, {ticket['status']}, "
            f"priorité {ticket['priority']}, assigné à {ticket['assignee']})",
            "",
            "CONTEXTE:",
            " ".join(capital(s) for s in sections.get("Context", [])),
            "",
            "OBJECTIF:",
            " ".join(capital(s) for s in sections.get("Goal", [])),
            "",
            "CRITÈRES D’ACCEPTATION:",
            bullets("Acceptance criteria"),
            "",
            "ÉTAPES / RÈGLES MÉTIER:",
            bullets("Business rules"),
            "",
            "POINTS D’ATTENTION:",
            bullets("Watch out"),
            *comments,
        ]
    )


def jira_model(body: dict[str, Any]) -> str | None:
    """What the model says in the recorded run, after the tool result; ``None`` leaves the fake server's own
    brain to answer (it is the one that calls ``get_issue`` with ``PROJ-1``, from the request's text)."""
    messages = body.get("messages") or []
    if not messages or messages[0].get("content") != agent.SYSTEM_PROMPT:
        return None
    ticket = ticket_of(messages)
    if ticket is None:
        return None
    if messages[-1].get("role") == "tool":  # the tool loop's last turn
        return f"J’ai récupéré le ticket {ticket['key']} (« {ticket['summary']} », {ticket['status']}). Je peux le résumer."
    if messages[-1].get("content") == FINAL_REQUEST:
        return summary_of(ticket)
    return None


def record_mode(pytestconfig: pytest.Config) -> str:
    mode = pytestconfig.getoption("--record-mode", None) or pytestconfig.getini("harness_record_mode") or "none"
    return str(mode)


@pytest.fixture
def jira_url(pytestconfig: pytest.Config) -> Iterator[str]:
    if record_mode(pytestconfig) == "none":
        yield NOWHERE + "/mcp"  # nothing listens: MCP answers come from the cassette
        return
    from examples.jira_agent.jira_server import JiraHttpServer

    with JiraHttpServer() as server:
        yield server.url


@pytest.fixture
def jira_model_url(pytestconfig: pytest.Config) -> Iterator[str]:
    if os.environ.get("MODEL_URL"):
        yield os.environ["MODEL_URL"]
        return
    if record_mode(pytestconfig) == "none":
        yield NOWHERE
        return
    from tests.servers.model_server import ModelServer

    with ModelServer(replies=jira_model) as server:
        yield server.url


@pytest.mark.cassette
def test_jira_agent(cassette, jira_model_url, jira_url, agent_snapshot):
    async def main() -> tuple[list[dict], str, str]:
        # The seed's own httpx client (a legacy httpx, not the SDK's default), handed to AsyncOpenAI.
        async with httpx.AsyncClient(follow_redirects=False, timeout=120.0) as http_client:
            client = AsyncOpenAI(api_key="sk-example-not-a-key", base_url=jira_model_url + "/v1", http_client=http_client)
            shown = io.StringIO()
            messages, summary = await agent.run(client, jira_url, REQUEST, agent.MODEL, shown)
            return messages, summary, shown.getvalue()

    messages, summary, shown = asyncio.run(main())

    tool_calls = [call["function"] for m in messages if m["role"] == "assistant" for call in m.get("tool_calls", [])]
    assert [c["name"] for c in tool_calls] == ["get_issue"]
    tool_results = [m["content"] for m in messages if m["role"] == "tool"]
    assert len(tool_results) == 1 and "PROJ-1" in tool_results[0]
    # Streamed to the terminal as it came, under the seed's header.
    assert shown == f"\n--- RÉSUMÉ (streaming) ---\n{summary}\n\n"
    headings = re.findall(r"^([A-ZÉÈ /’]+):", summary, flags=re.MULTILINE)
    assert headings == [
        "TICKET",
        "CONTEXTE",
        "OBJECTIF",
        "CRITÈRES D’ACCEPTATION",
        "ÉTAPES / RÈGLES MÉTIER",
        "POINTS D’ATTENTION",
    ]
    assert summary.startswith("TICKET: PROJ-1 — Export invoices as PDF")
    kinds = [i.kind for i in cassette.interactions]
    assert kinds.count("http") == 3  # two tool-loop calls, one streamed summary
    assert {"tool_calls": tool_calls, "tool_results": tool_results, "summary": summary} == agent_snapshot
