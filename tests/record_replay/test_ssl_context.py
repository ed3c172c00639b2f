"""The SSL context of a default client: replay builds none (it never connects), a recording and a
pass-through still get the real one and verify certificates. Real pytest sessions (pytester)
against a loopback HTTPS server with a self-signed certificate."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpcore2  # noqa: F401  (see below)
import httpx2  # noqa: F401
import pytest

from tests.conftest import load_cassette

# The in-process pytester runs keep what was imported before them: imported here, httpx2 and its
# httpcore2 stay one copy each, whatever another test's inner run imported and dropped (else
# httpx2 maps a second copy's httpcore2.ConnectError to nothing, and it escapes unmapped).

# Counts the loads of certificate stores (what building a default client's SSL context costs).
SPY = """
import ssl, pytest

LOADS = []
_real = ssl.SSLContext.load_verify_locations

def _spy(self, *args, **kwargs):
    LOADS.append(args or kwargs)
    return _real(self, *args, **kwargs)

ssl.SSLContext.load_verify_locations = _spy

@pytest.fixture
def loads():
    LOADS.clear()
    return LOADS
"""

CLIENTS = """
import asyncio, importlib, os, pytest

LIBS = ["httpx2", "httpx"]

def get(lib, url):
    mod = importlib.import_module(lib)
    with mod.Client() as client:
        return client.get(url).json()

def aget(lib, url):
    mod = importlib.import_module(lib)
    async def main():
        async with mod.AsyncClient() as client:
            return (await client.get(url)).json()
    return asyncio.run(main())

@pytest.mark.cassette
@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("call", [get, aget], ids=["sync", "async"])
def test_default_client(lib, call, loads):
    assert call(lib, os.environ["HTTPS_URL"]) == {"ok": True}
    print("LOADS", lib, call.__name__, len(loads))
"""


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A loopback HTTPS server answering ``{"ok": true}``, and the file of its self-signed certificate."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            *subject,
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"ok": True}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/", cert
    finally:
        server.shutdown()
        server.server_close()


def test_replay_builds_no_ssl_context_and_recording_verifies_certificates(pytester, https_server, monkeypatch):
    url, cert = https_server
    pytester.makeconftest(SPY)
    pytester.makepyfile(test_tls=CLIENTS)
    monkeypatch.setenv("HTTPS_URL", url)
    # Given an untrusted certificate, when recording (new_episodes replays too, so the client is
    # made the way replay makes it), then the real context refuses it.
    untrusted = pytester.runpytest("--record-mode=new_episodes")
    untrusted.assert_outcomes(failed=4)
    untrusted.stdout.fnmatch_lines(["*CERTIFICATE_VERIFY_FAILED*"])
    shutil.rmtree(pytester.path / "cassettes", ignore_errors=True)  # the failed connections were recorded
    # Given the certificate trusted through the environment, the recording gets through.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    recorded = pytester.runpytest("--record-mode=new_episodes", "-s")
    recorded.assert_outcomes(passed=4)
    assert "LOADS" in recorded.stdout.str()
    stored = load_cassette(pytester.path / "cassettes" / "test_tls" / "test_default_client[sync-httpx2].json")
    assert "https://127.0.0.1" in json.dumps(stored["interactions"][0])
    # Replayed with nothing trusted and the server still up: no certificate store is loaded.
    monkeypatch.delenv("SSL_CERT_FILE")
    replayed = pytester.runpytest("-s")
    replayed.assert_outcomes(passed=4)
    counts = re.findall(r"LOADS \S+ \S+ (\d+)", replayed.stdout.str())
    assert counts == ["0"] * 4, replayed.stdout.str()


def test_a_client_made_in_replay_still_verifies_after_the_test(pytester, https_server, monkeypatch):
    # A client made during a replayed test and used after it (kept in a module global) connects
    # for real then: it builds the real context at that moment, and verifies the certificate.
    url, _cert = https_server
    pytester.makepyfile(
        test_later="""
        import os, httpx2, pytest

        KEPT = []

        @pytest.mark.cassette
        def test_make():
            KEPT.append(httpx2.Client())

        def test_use_after():
            with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                KEPT[0].get(os.environ["HTTPS_URL"])
        """
    )
    monkeypatch.setenv("HTTPS_URL", url)
    result = pytester.runpytest("--record-mode=new_episodes")
    result.assert_outcomes(passed=2)
