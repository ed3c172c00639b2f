"""No secret on disk, wherever the agent code puts it (issue 12, items 18-21).

One user project puts one distinct secret in each placement (a header, a URL, a body of any kind, a
stream split across events, a snapshot), records it against the loopback model server, and then no
file of the project (cassettes and ``__snapshots__/*.ambr``) may hold any of them; the recording
replays offline. ``tests/user_projects/test_lint.py`` checks that ``harness lint`` flags each
placement in a cassette written by hand, unscrubbed.
"""

from __future__ import annotations

import base64
from pathlib import Path

# id -> (the secret, the inner test's body). Every secret is distinct, so a leak names its placement.
# ``claude``/``oai`` are SDK clients, ``url`` is the model server's URL (conftest below).
PLACEMENTS: dict[str, tuple[str, str]] = {
    "anthropic api key (x-api-key)": (
        "sk-ant-api03-H1aaaaBBBBccccDDDD1111",
        "ask(anthropic_client('sk-ant-api03-H1aaaaBBBBccccDDDD1111'))",
    ),
    "openai key (authorization: Bearer)": (
        "sk-proj-H2aaaaBBBBccccDDDD2222",
        "openai_client('sk-proj-H2aaaaBBBBccccDDDD2222').chat.completions.create(model='m', messages=[{'role': 'user', 'content': 'hi'}])",
    ),
    "gateway header x-portkey-api-key": (
        "pk9Hq3ZtW8xLm2Vb7Nc4",
        "ask(claude, headers={'x-portkey-api-key': 'pk9Hq3ZtW8xLm2Vb7Nc4'})",
    ),
    "gateway header x-auth-token": ("at7Yq2WsX9kLp3Mn6Bv1", "ask(claude, headers={'x-auth-token': 'at7Yq2WsX9kLp3Mn6Bv1'})"),
    "aws session token x-amz-security-token": (
        "IQoJb3JpZ2luX2VjEH8aCXVzLWVhc3QtMSJHMEUCIQD",
        "ask(claude, headers={'x-amz-security-token': 'IQoJb3JpZ2luX2VjEH8aCXVzLWVhc3QtMSJHMEUCIQD'})",
    ),
    "custom header x-service-secret": (
        "ss4Kd8Jf2Lq9Wz1Xc5Vb",
        "ask(claude, headers={'x-service-secret': 'ss4Kd8Jf2Lq9Wz1Xc5Vb'})",
    ),
    "custom header x-db-password": ("pw3Hn7Gt1Rq8Ys2Ue6Io", "ask(claude, headers={'x-db-password': 'pw3Hn7Gt1Rq8Ys2Ue6Io'})"),
    "custom header x-internal-api-key": (
        "ik5Tg9Fr3Ed7Ws1Qa4Zx",
        "ask(claude, headers={'X-Internal-Api-Key': 'ik5Tg9Fr3Ed7Ws1Qa4Zx'})",
    ),
    "custom header x-access-token": (
        "ya29.H9accessTOKENvalue123",
        "ask(claude, headers={'x-access-token': 'ya29.H9accessTOKENvalue123'})",
    ),
    "header x-goog-api-key": (
        "AIzaH10aaaaBBBBccccDDDDeeeeFFFFgggg1234",
        "ask(claude, headers={'x-goog-api-key': 'AIzaH10aaaaBBBBccccDDDDeeeeFFFFgggg1234'})",
    ),
    "cookie header": ("ck8Mj3Nh7Bg2Vf6Cd1Xs", "ask(claude, headers={'cookie': 'session=ck8Mj3Nh7Bg2Vf6Cd1Xs'})"),
    "query ?x-api-key=": ("qk2Wm8Xn4Cb6Vl1Zp9Ko", "ask(claude, query={'x-api-key': 'qk2Wm8Xn4Cb6Vl1Zp9Ko'})"),
    "query ?api_key=": ("qk7Rt3Yu5Io1Pa9Sd2Fg", "ask(claude, query={'api_key': 'qk7Rt3Yu5Io1Pa9Sd2Fg'})"),
    "query ?access_token=ya29.": (
        "ya29.U4queryTOKENvalue456",
        "ask(claude, query={'access_token': 'ya29.U4queryTOKENvalue456'})",
    ),
    "url userinfo svc:PASS@host": (
        "Us3rInf0Pa55w0rdXyZ",
        "ask(anthropic_client('sk-ant-api03-U5xxxxYYYYzzzzWWWW5555', url.replace('://', '://svc:Us3rInf0Pa55w0rdXyZ@')))",
    ),
    "anthropic key in the user's text (echoed back)": (
        "sk-ant-api03-B1aaaaBBBBccccDDDD1111",
        "ask(claude, 'my key is sk-ant-api03-B1aaaaBBBBccccDDDD1111')",
    ),
    "oauth access token ya29. in text": (
        "ya29.a0AfB2textTOKENvalue789xyz",
        "ask(claude, 'token ya29.a0AfB2textTOKENvalue789xyz')",
    ),
    "upper-case BEARER in text": ("Bt4Qw8Er2Ty6Ui1Op5AsDfGh", "ask(claude, 'send BEARER Bt4Qw8Er2Ty6Ui1Op5AsDfGh')"),
    "Bearer with two spaces in text": ("Bt9Zx3Cv7Bn1Mq5Wr8EtYuIo", "ask(claude, 'send Bearer  Bt9Zx3Cv7Bn1Mq5Wr8EtYuIo')"),
    "aws access key id in text": ("AKIAB6AAAABBBBCCCCDD", "ask(claude, 'aws AKIAB6AAAABBBBCCCCDD')"),
    "github token in text": (
        "ghp_B7aaaaBBBBccccDDDDeeeeFFFFgggg1234",
        "ask(claude, 'gh ghp_B7aaaaBBBBccccDDDDeeeeFFFFgggg1234')",
    ),
    "json body field client_secret": (
        "cs1Jk5Lm9Nb3Vc7Xz2As",
        "ask(claude, extra={'metadata': {'client_secret': 'cs1Jk5Lm9Nb3Vc7Xz2As'}})",
    ),
    "form body client_secret= / refresh_token=": (
        "GOCSPX-F1formSECRETvalue",
        "post_form(url, {'grant_type': 'refresh_token', 'client_id': 'app', 'client_secret': 'GOCSPX-F1formSECRETvalue',"
        " 'refresh_token': 'rt8Ui2Op6As4Df1Gh7Jk'})",
    ),
    "form body refresh_token=": (
        "rt8Ui2Op6As4Df1Gh7Jk",
        "post_form(url, {'refresh_token': 'rt8Ui2Op6As4Df1Gh7Jk', 'grant_type': 'x'})",
    ),
    "form body password=": ("pw6Yh2Tg8Rf4Ed1Ws9Qa", "post_form(url, {'username': 'svc', 'password': 'pw6Yh2Tg8Rf4Ed1Ws9Qa'})"),
    "latin-1 body": (
        "sk-ant-api03-X1aaaaBBBBccccDDDD1111",
        "post_bytes(url, 'café sk-ant-api03-X1aaaaBBBBccccDDDD1111'.encode('latin-1'), 'text/plain; charset=latin-1')",
    ),
    "utf-16 body": (
        "sk-ant-api03-X2aaaaBBBBccccDDDD2222",
        "post_bytes(url, 'key: sk-ant-api03-X2aaaaBBBBccccDDDD2222'.encode('utf-16'), 'text/plain; charset=utf-16')",
    ),
    "binary body": (
        "sk-ant-api03-X3aaaaBBBBccccDDDD3333",
        "post_bytes(url, bytes(range(256)) + b'sk-ant-api03-X3aaaaBBBBccccDDDD3333' + b'\\xff\\x00', 'application/octet-stream')",
    ),
    "anthropic stream: tool input split across input_json_delta": (
        "sk-ant-api03-S1aaaaBBBBccccDDDD1111eeee",
        "stream_tool(claude, 'sk-ant-api03-S1aaaaBBBBccccDDDD1111eeee')",
    ),
    "anthropic stream: ya29. token split across deltas": (
        "ya29.S2streamTOKENvalue000",
        "stream_tool(claude, 'ya29.S2streamTOKENvalue000')",
    ),
    "openai stream: tool arguments split across chunks": (
        "sk-proj-S3aaaaBBBBccccDDDD3333eeee",
        "stream_openai_tool(openai_client('sk-proj-zzzzzzzzzzzzzzzzzzzz'), 'sk-proj-S3aaaaBBBBccccDDDD3333eeee')",
    ),
    "agent_snapshot of a reply holding a key": (
        "sk-ant-api03-N1aaaaBBBBccccDDDD1111",
        "assert ask(claude, 'sk-ant-api03-N1aaaaBBBBccccDDDD1111') == agent_snapshot",
    ),
    "agent_snapshot of data holding a token": (
        "ya29.N2snapshotTOKEN12345",
        "assert {'note': 'token ya29.N2snapshotTOKEN12345', 'client_secret': 'cs0Nq4Wm8Ex2Rc6Tv1Yb'} == agent_snapshot",
    ),
    "agent_snapshot: a json key client_secret": (
        "cs0Nq4Wm8Ex2Rc6Tv1Yb",
        "assert {'client_secret': 'cs0Nq4Wm8Ex2Rc6Tv1Yb'} == agent_snapshot",
    ),
    "recorded tool input": ("ya29.T1toolTOKENvalue777", "lookup('ya29.T1toolTOKENvalue777')"),
}

CONFTEST = """
    import os

    import anthropic
    import httpx
    import openai
    import pytest

    import harness


    def anthropic_client(key, url=None):
        return anthropic.Anthropic(api_key=key, base_url=url or os.environ["MODEL_URL"], max_retries=0)


    def openai_client(key):
        return openai.OpenAI(api_key=key, base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)


    def ask(client, text="hello", headers=None, query=None, extra=None):
        reply = client.messages.create(
            model="m", max_tokens=50, messages=[{"role": "user", "content": text}],
            extra_headers=headers, extra_query=query, extra_body=extra,
        )
        return reply.content[0].text


    TOOL = {"name": "lookup", "description": "d", "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}


    def stream_tool(client, secret):
        with client.messages.stream(model="m", max_tokens=50, tools=[TOOL], messages=[{"role": "user", "content": f'lookup "{secret}"'}]) as s:
            return s.get_final_message()


    def stream_openai_tool(client, secret):
        tool = {"type": "function", "function": {"name": "lookup", "parameters": TOOL["input_schema"]}}
        chunks = client.chat.completions.create(
            model="m", stream=True, tools=[tool], messages=[{"role": "user", "content": f'lookup "{secret}"'}]
        )
        return [c for c in chunks]


    def post_form(url, data):
        return httpx.post(url + "/oauth/token", data=data).status_code


    def post_bytes(url, data, ctype):
        return httpx.post(url + "/upload", content=data, headers={"content-type": ctype}).status_code


    @harness.recorded_tool
    def lookup(token):
        return "ok"


    @pytest.fixture
    def claude():
        return anthropic_client("sk-ant-api03-Cfixture0000000000000")


    @pytest.fixture
    def url():
        return os.environ["MODEL_URL"]
"""


def inner_tests() -> str:
    lines = ["import pytest", "from conftest import *  # noqa", "", "pytestmark = pytest.mark.cassette", ""]
    for n, (_secret, code) in enumerate(PLACEMENTS.values()):
        lines += [f"def test_p{n:02d}(claude, url, agent_snapshot):", f"    {code}", "", ""]
    return "\n".join(lines)


def _stream_texts(value: object, into: dict[str, str]) -> None:
    """The string fields of a stream's events, concatenated by field name across the events (a key
    split over consecutive deltas shows whole, as ``harness show`` prints it)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, str):
                into[k] = into.get(k, "") + v
            else:
                _stream_texts(v, into)
    elif isinstance(value, list):
        for v in value:
            _stream_texts(v, into)


def readable(path: Path) -> str:
    """A file's text, and for a cassette the text of each stream reassembled."""
    text = path.read_bytes().decode("latin-1")
    if path.suffix == ".json" and "cassettes" in path.parts:
        import json

        fields: dict[str, str] = {}
        for item in json.loads(text).get("interactions", []):
            for part in (item.get("request") or {}, item.get("response") or {}):
                body = part.get("body") or {}
                _stream_texts([e.get("data") for e in body.get("sse", [])], fields)
                if "base64" in body:  # a binary body, read as latin-1 and as UTF-16
                    data = base64.b64decode(body["base64"])
                    fields[f"b{len(fields)}"] = data.decode("latin-1") + data.decode("utf-16", "replace")
        text += "\n".join(fields.values())
    return text


def leaks_of(root: Path) -> dict[str, list[str]]:
    """placement -> the files holding its secret."""
    files = [p for p in sorted(root.rglob("*")) if p.is_file() and p.suffix in (".json", ".ambr", ".yaml")]
    texts = {str(p.relative_to(root)): readable(p) for p in files}
    found = {}
    for name, (secret, _code) in PLACEMENTS.items():
        holding = [f for f, text in texts.items() if secret in text]
        if holding:
            found[name] = holding
    return found


def test_no_placement_of_a_secret_reaches_a_cassette_or_a_snapshot(project):
    # Given a project whose tests put one secret in each placement
    project.write({"conftest.py": CONFTEST, "tests/test_placements.py": inner_tests()})

    # When it is recorded (snapshots written too)
    project.record("-p", "no:randomly", "--snapshot-update").assert_outcomes(passed=len(PLACEMENTS))

    # Then no file it wrote holds any of the secrets
    assert project.cassettes(), "nothing recorded"
    assert list(project.path.rglob("__snapshots__/*.ambr")), "no snapshot written"
    leaks = leaks_of(project.path)
    assert leaks == {}, f"{len(leaks)} of {len(PLACEMENTS)} placements leaked:\n" + "\n".join(
        f"  {k}: {v}" for k, v in leaks.items()
    )

    # And the scrubbed recording replays offline, snapshots included (a tool's input, like MCP
    # params, is matched in its scrubbed form, as the file holds it).
    project.replay("-p", "no:randomly").assert_outcomes(passed=len(PLACEMENTS))
