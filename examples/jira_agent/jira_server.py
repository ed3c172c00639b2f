"""A small local Jira-like MCP server for the Jira agent example.

The tools a Jira agent loop needs (see the seed agent: it lists the tools, hands them to the model as
functions and calls whatever the model picks):

``search_issues(jql)``                          issues matching a (small) JQL subset
``get_issue(key)``                              one issue with its description and comments
``create_issue(project, summary, description)`` a new issue, keys allocated in sequence
``add_comment(key, body)``                      a comment on an issue

The issue store is in memory, per server instance, and fully deterministic: fixed seed data, keys and
comment ids allocated in sequence, one fixed timestamp. Nothing depends on the clock or on randomness,
so a recorded session re-records to the same bytes.

Run it:

* streamable HTTP (the seed agent's ``http://localhost:20000/mcp``):
  ``python -m examples.jira_agent.jira_server --http 20000``
* stdio: ``python -m examples.jira_agent.jira_server``
* in a test: ``with JiraHttpServer() as server: ... server.url`` (a free port on 127.0.0.1), or pass
  ``build_server()`` to ``mcp.Client`` to run it in-process.
"""

from __future__ import annotations

import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

MCP_PATH = "/mcp"
DEFAULT_PORT = 20000
FIXED_TIMESTAMP = "2025-01-15T09:00:00.000+0000"
"""Every timestamp the server hands out: the store never reads the clock."""


# --- data model ------------------------------------------------------------------------------------------------------


class Comment(BaseModel):
    id: str
    author: str
    body: str
    created: str


class Issue(BaseModel):
    key: str
    project: str
    issue_type: str
    summary: str
    description: str
    status: str
    priority: str
    assignee: str | None
    reporter: str
    labels: list[str]
    created: str
    updated: str
    comments: list[Comment]


class IssueSummary(BaseModel):
    key: str
    summary: str
    status: str
    priority: str
    assignee: str | None


class SearchResult(BaseModel):
    jql: str
    total: int
    issues: list[IssueSummary]


class CreatedIssue(BaseModel):
    key: str
    url: str


_SEED: list[dict[str, Any]] = [
    {
        "key": "PROJ-1",
        "issue_type": "Story",
        "summary": "Export invoices as PDF",
        "description": (
            "Context: accountants download invoices one by one from the billing page and rebuild them in a "
            "spreadsheet before sending them to customers.\n"
            "Goal: let an accountant export any invoice as a PDF from the invoice detail page.\n"
            "Acceptance criteria:\n"
            "- An 'Export PDF' button is shown on the invoice detail page.\n"
            "- The PDF contains the company header, the invoice lines, VAT and the total.\n"
            "- The file is named <invoice-number>.pdf.\n"
            "Business rules:\n"
            "- Only users with the 'accountant' role can export.\n"
            "- Draft invoices cannot be exported.\n"
            "Watch out: amounts must use the customer's locale for the decimal separator."
        ),
        "status": "In Progress",
        "priority": "High",
        "assignee": "alice",
        "reporter": "bob",
        "labels": ["billing", "pdf"],
        "comments": [
            ("bob", "The legal team asked for the VAT number to appear in the header."),
            ("alice", "Started with the layout; the locale handling needs a decision."),
        ],
    },
    {
        "key": "PROJ-2",
        "issue_type": "Bug",
        "summary": "Login fails when the email contains a plus sign",
        "description": (
            "Steps: sign up with jane+test@example.com, log out, log in again.\n"
            "Expected: the user is logged in.\n"
            "Actual: 'invalid credentials'. The '+' is decoded as a space before the lookup."
        ),
        "status": "To Do",
        "priority": "Highest",
        "assignee": None,
        "reporter": "carol",
        "labels": ["auth"],
        "comments": [],
    },
    {
        "key": "PROJ-3",
        "issue_type": "Task",
        "summary": "Upgrade the database driver",
        "description": "Move to the latest driver release; run the integration suite against staging first.",
        "status": "Done",
        "priority": "Medium",
        "assignee": "dave",
        "reporter": "alice",
        "labels": ["tech-debt"],
        "comments": [("dave", "Upgraded and deployed; no regressions in the suite.")],
    },
    {
        "key": "OPS-1",
        "issue_type": "Task",
        "summary": "Rotate the staging TLS certificate",
        "description": "The staging certificate expires at the end of the month. Rotate it and update the runbook.",
        "status": "To Do",
        "priority": "Medium",
        "assignee": "erin",
        "reporter": "dave",
        "labels": ["ops", "security"],
        "comments": [],
    },
]


@dataclass
class IssueStore:
    """The in-memory issue tracker. Deterministic: sequential keys and comment ids, one fixed timestamp."""

    issues: dict[str, Issue] = field(default_factory=dict)
    next_number: dict[str, int] = field(default_factory=dict)
    next_comment_id: int = 10000
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def seeded(cls) -> IssueStore:
        store = cls()
        for raw in _SEED:
            project, _, number = raw["key"].partition("-")
            comments = [store._new_comment(author, body) for author, body in raw["comments"]]
            store.issues[raw["key"]] = Issue(
                project=project,
                created=FIXED_TIMESTAMP,
                updated=FIXED_TIMESTAMP,
                **{k: v for k, v in raw.items() if k != "comments"},
                comments=comments,
            )
            store.next_number[project] = max(store.next_number.get(project, 1), int(number) + 1)
        return store

    def _new_comment(self, author: str, body: str) -> Comment:
        self.next_comment_id += 1
        return Comment(id=str(self.next_comment_id), author=author, body=body, created=FIXED_TIMESTAMP)

    def get(self, key: str) -> Issue:
        issue = self.issues.get(key.strip().upper())
        if issue is None:
            raise ToolError(f"Issue {key!r} does not exist (known keys: {', '.join(self.issues)})")
        return issue

    def search(self, jql: str) -> list[Issue]:
        query = parse_jql(jql)
        found = [issue for issue in self.issues.values() if query.matches(issue)]
        return query.sort(found)

    def create(self, project: str, summary: str, description: str, reporter: str) -> Issue:
        project = project.strip().upper()
        if not re.fullmatch(r"[A-Z][A-Z0-9]*", project):
            raise ToolError(f"Invalid project key {project!r}: expected letters and digits, e.g. 'PROJ'")
        if not summary.strip():
            raise ToolError("The summary must not be empty")
        with self.lock:
            number = self.next_number.get(project, 1)
            self.next_number[project] = number + 1
            issue = Issue(
                key=f"{project}-{number}",
                project=project,
                issue_type="Task",
                summary=summary.strip(),
                description=description,
                status="To Do",
                priority="Medium",
                assignee=None,
                reporter=reporter,
                labels=[],
                created=FIXED_TIMESTAMP,
                updated=FIXED_TIMESTAMP,
                comments=[],
            )
            self.issues[issue.key] = issue
        return issue

    def comment(self, key: str, body: str, author: str) -> Comment:
        if not body.strip():
            raise ToolError("The comment body must not be empty")
        with self.lock:
            issue = self.get(key)
            comment = self._new_comment(author, body)
            issue.comments.append(comment)
            issue.updated = FIXED_TIMESTAMP
        return comment


# --- a small JQL subset ----------------------------------------------------------------------------------------------

_FIELDS: dict[str, Callable[[Issue], list[str]]] = {
    "key": lambda i: [i.key],
    "issuekey": lambda i: [i.key],
    "project": lambda i: [i.project],
    "status": lambda i: [i.status],
    "priority": lambda i: [i.priority],
    "assignee": lambda i: [i.assignee or "EMPTY"],
    "reporter": lambda i: [i.reporter],
    "type": lambda i: [i.issue_type],
    "issuetype": lambda i: [i.issue_type],
    "labels": lambda i: i.labels or ["EMPTY"],
    "summary": lambda i: [i.summary],
    "description": lambda i: [i.description],
    "comment": lambda i: [c.body for c in i.comments],
    "text": lambda i: [i.summary, i.description, *(c.body for c in i.comments)],
}
_ORDERABLE = {
    "key",
    "issuekey",
    "project",
    "status",
    "priority",
    "assignee",
    "reporter",
    "type",
    "issuetype",
    "summary",
}
_PRIORITY_RANK = {"Lowest": 0, "Low": 1, "Medium": 2, "High": 3, "Highest": 4}  # Jira: DESC = most urgent first
_TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|!~|=|~|\(|\)|,)|(?P<word>[^\s=!~(),"']+))"""
)


@dataclass(frozen=True)
class _Clause:
    name: str
    op: Literal["=", "!=", "~", "!~", "in", "not in"]
    values: tuple[str, ...]

    def matches(self, issue: Issue) -> bool:
        actual = _FIELDS[self.name](issue)
        if self.op in ("~", "!~"):
            needle = self.values[0].lower()
            hit = any(needle in value.lower() for value in actual)
        else:
            wanted = {v.lower() for v in self.values}
            hit = any(value.lower() in wanted for value in actual)
        return hit if self.op in ("=", "~", "in") else not hit


@dataclass(frozen=True)
class _Query:
    any_of: tuple[tuple[_Clause, ...], ...]  # OR of ANDs
    order_by: tuple[str, bool] | None  # (field, descending)

    def matches(self, issue: Issue) -> bool:
        return not self.any_of or any(all(c.matches(issue) for c in conj) for conj in self.any_of)

    def sort(self, issues: list[Issue]) -> list[Issue]:
        def natural(issue: Issue) -> tuple[str, int]:
            project, _, number = issue.key.partition("-")
            return project, int(number)

        ordered = sorted(issues, key=natural)
        if self.order_by is None:
            return ordered
        name, descending = self.order_by

        def key(issue: Issue) -> Any:
            if name == "priority":
                return _PRIORITY_RANK.get(issue.priority, -1)
            if name in ("key", "issuekey"):
                return natural(issue)
            return _FIELDS[name](issue)[0].lower()

        return sorted(ordered, key=key, reverse=descending)


def _tokens(jql: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    jql = jql.rstrip()
    while pos < len(jql):
        m = _TOKEN.match(jql, pos)
        if m is None or m.end() == pos:
            raise ToolError(f"JQL syntax error near {jql[pos:]!r}")
        pos = m.end()
        if m.group("string") is not None:
            raw = m.group("string")[1:-1]
            out.append(("value", re.sub(r"\\(.)", r"\1", raw)))
        elif m.group("op") is not None:
            out.append(("op", m.group("op")))
        else:
            out.append(("word", m.group("word")))
    return out


def parse_jql(jql: str) -> _Query:
    """Parse ``field op value [AND|OR ...] [ORDER BY field [ASC|DESC]]``; ops ``= != ~ !~ IN, NOT IN``."""
    toks = _tokens(jql)
    i = 0

    def peek_word(*words: str) -> bool:
        return i < len(toks) and toks[i][0] == "word" and toks[i][1].lower() in words

    def value() -> str:
        nonlocal i
        if i >= len(toks) or toks[i][0] == "op":
            raise ToolError(f"JQL syntax error: expected a value in {jql!r}")
        i += 1
        return toks[i - 1][1]

    any_of: list[tuple[_Clause, ...]] = []
    conj: list[_Clause] = []
    while i < len(toks) and not peek_word("order"):
        name = value().lower()
        if name not in _FIELDS:
            raise ToolError(f"Unsupported JQL field {name!r}; supported: {', '.join(sorted(_FIELDS))}")
        op: str
        if peek_word("in"):
            op, i = "in", i + 1
        elif peek_word("not") and i + 1 < len(toks) and toks[i + 1][1].lower() == "in":
            op, i = "not in", i + 2
        elif i < len(toks) and toks[i][0] == "op" and toks[i][1] in ("=", "!=", "~", "!~"):
            op, i = toks[i][1], i + 1
        else:
            raise ToolError(f"JQL syntax error: expected an operator after {name!r} in {jql!r}")
        if op in ("in", "not in"):
            if i >= len(toks) or toks[i] != ("op", "("):
                raise ToolError(f"JQL syntax error: expected '(' after {op.upper()} in {jql!r}")
            i += 1
            values = [value()]
            while i < len(toks) and toks[i] == ("op", ","):
                i += 1
                values.append(value())
            if i >= len(toks) or toks[i] != ("op", ")"):
                raise ToolError(f"JQL syntax error: expected ')' in {jql!r}")
            i += 1
        else:
            values = [value()]
        conj.append(_Clause(name, op, tuple(values)))  # type: ignore[arg-type]
        if peek_word("and"):
            i += 1
        elif peek_word("or"):
            i += 1
            any_of.append(tuple(conj))
            conj = []
        elif i < len(toks) and not peek_word("order"):
            raise ToolError(f"JQL syntax error: expected AND, OR or ORDER BY near {toks[i][1]!r} in {jql!r}")
    if conj:
        any_of.append(tuple(conj))

    order_by: tuple[str, bool] | None = None
    if peek_word("order"):
        i += 1
        if not peek_word("by"):
            raise ToolError(f"JQL syntax error: expected BY after ORDER in {jql!r}")
        i += 1
        name = value().lower()
        if name not in _ORDERABLE:
            raise ToolError(f"Cannot ORDER BY {name!r}; orderable: {', '.join(sorted(_ORDERABLE))}")
        descending = False
        if peek_word("asc", "desc"):
            descending = toks[i][1].lower() == "desc"
            i += 1
        order_by = (name, descending)
    if i != len(toks):
        raise ToolError(f"JQL syntax error: unexpected {toks[i][1]!r} in {jql!r}")
    return _Query(tuple(any_of), order_by)


# --- the MCP server --------------------------------------------------------------------------------------------------


def build_server(store: IssueStore | None = None, *, base_url: str = "https://jira.example.test") -> MCPServer:
    """A fresh server over ``store`` (a fresh seeded store by default)."""
    store = store if store is not None else IssueStore.seeded()
    mcp = MCPServer(
        "jira-local",
        version="1.0.0",
        instructions="A local, in-memory Jira. Issue keys look like PROJ-1; search with JQL.",
        log_level="WARNING",
    )

    @mcp.tool()
    def search_issues(jql: str) -> SearchResult:
        """Search issues with JQL, e.g. `project = PROJ AND status = "In Progress" ORDER BY priority`.

        Supported: fields key, project, status, priority, assignee, reporter, type, labels, summary,
        description, comment, text; operators = != ~ !~ IN NOT IN; AND / OR; ORDER BY field ASC|DESC.
        An empty query returns every issue.
        """
        found = store.search(jql)
        return SearchResult(
            jql=jql,
            total=len(found),
            issues=[
                IssueSummary(key=i.key, summary=i.summary, status=i.status, priority=i.priority, assignee=i.assignee)
                for i in found
            ],
        )

    @mcp.tool()
    def get_issue(key: str) -> Issue:
        """Get one issue by key (e.g. PROJ-1): summary, description, status, people, labels and comments."""
        return store.get(key)

    @mcp.tool()
    def create_issue(project: str, summary: str, description: str) -> CreatedIssue:
        """Create a task in a project (e.g. PROJ) and return its key."""
        issue = store.create(project, summary, description, reporter="agent")
        return CreatedIssue(key=issue.key, url=f"{base_url}/browse/{issue.key}")

    @mcp.tool()
    def add_comment(key: str, body: str) -> Comment:
        """Add a comment to an issue and return the stored comment."""
        return store.comment(key, body, author="agent")

    return mcp


def http_app(store: IssueStore | None = None) -> Any:
    """The streamable-HTTP ASGI app (endpoint at ``/mcp``)."""
    return build_server(store).streamable_http_app(streamable_http_path=MCP_PATH)


class JiraHttpServer:
    """Serve the Jira server over streamable HTTP with uvicorn in a daemon thread.

    ``port=0`` picks a free port; ``.url`` is the full MCP endpoint (``http://127.0.0.1:PORT/mcp``) and
    ``.store`` the live issue store, for assertions.
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1", store: IssueStore | None = None) -> None:
        import uvicorn

        self.host, self.port = host, port
        self.store = store if store is not None else IssueStore.seeded()
        config = uvicorn.Config(http_app(self.store), log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{MCP_PATH}"

    def start(self) -> JiraHttpServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"Jira MCP server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> JiraHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--http":
        port = int(argv[1]) if len(argv) > 1 else DEFAULT_PORT
        server = JiraHttpServer(port=port).start()
        print(f"Jira MCP server on {server.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            server.stop()
        return
    build_server().run("stdio")


if __name__ == "__main__":
    main(sys.argv[1:])
