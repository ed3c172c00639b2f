"""The final scrub of a cassette's whole text must not cut into a binary body's base64: random bytes
encode, now and then, to something key-shaped (``AIza`` and 35 more base64 characters is a Google
API key's shape). The body itself was already scrubbed through its decoded views."""

from __future__ import annotations

import base64
import subprocess
import sys

from harness.cassette import format as cassette_format
from harness.cassette.model import Body, HttpInteraction, Request, Response
from harness.redact import REDACTED, Redactor

# 40 base64 characters holding a Google-API-key-shaped run: what a large image's encoding can hold.
ENCODED = "AIzaSyA1234567890abcdefghijklmnopqrstuvw"
DATA = base64.b64decode(ENCODED)


def cassette(body: Body) -> str:
    request = Request("POST", "https://api.example.com/v1/upload", {}, Body("json", {"note": "AIzaSyB" + "x" * 32}))
    return cassette_format.dumps([HttpInteraction(request, Response(200, {"content-type": "image/png"}, body))])


def test_a_base64_body_survives_the_final_scrub_and_a_real_key_does_not():
    redactor = Redactor()
    body = redactor.body(Body("base64", ENCODED))
    assert body.value == ENCODED  # its decoded bytes hold no text key
    text = redactor.file_text(cassette(body))
    (item,) = cassette_format.loads(text, "upload.json")
    assert isinstance(item, HttpInteraction) and item.response is not None
    assert base64.b64decode(item.response.body.value) == DATA
    assert "AIzaSyB" not in text and REDACTED in text  # the key-shaped string in the JSON body is scrubbed


def test_lint_does_not_report_a_key_shaped_run_of_an_encoding(tmp_path):
    redactor = Redactor()
    (tmp_path / "upload.json").write_text(redactor.file_text(cassette(Body("base64", ENCODED))))
    done = subprocess.run([sys.executable, "-m", "harness.cli", "lint", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    (tmp_path / "key.json").write_text(cassette(Body("json", {"key": "AIzaSyC" + "y" * 32})))  # stored unscrubbed
    done = subprocess.run([sys.executable, "-m", "harness.cli", "lint", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 1 and "key.json" in done.stdout and "upload.json" not in done.stdout, done.stdout
