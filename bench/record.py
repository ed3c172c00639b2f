"""Recording adds no delay to the time to first event: live vs recording, against a loopback server.

The server (a thread in this process, on 127.0.0.1) answers ``/v1/messages`` with an Anthropic
stream: the first event at once, then a pause of 30 ms, then the rest. Timed: from the start of
``messages.stream(...)`` to the SDK handing over the first event, without harness (``live``) and
while harness records the exchange (``recording``), interleaved; wall-clock medians.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import streams
from bench.common import Row

PAUSE = 0.03
EVENTS = 200


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    parts: list[bytes] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(self.parts[0])
        self.wfile.flush()
        time.sleep(PAUSE)
        for part in self.parts[1:]:
            self.wfile.write(part)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args: Any) -> None:
        pass


class Server:
    def __init__(self) -> None:
        _Handler.parts = streams.anthropic_stream(EVENTS).parts
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def first_event(client: Any) -> float:
    start = time.perf_counter()
    with client.messages.stream(model="claude-opus-4-7", max_tokens=1024, messages=[{"role": "user", "content": "hi"}]) as stream:
        first = next(iter(stream))
        at = time.perf_counter() - start
        stream.get_final_message()
    assert first.type == "message_start"
    return at


def run(quick: bool = False, log: Callable[[str], None] = print) -> list[Row]:
    import anthropic

    from harness.config import Settings
    from harness.session import Session

    rounds = 15 if quick else 40
    times: dict[str, list[float]] = {"live": [], "recording": []}
    with Server() as server, tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        client = anthropic.Anthropic(api_key="sk-ant-bench-key-000000", base_url=server.url, max_retries=0)
        for r in range(rounds + 2):
            for mode in ("live", "recording") if r % 2 == 0 else ("recording", "live"):
                if mode == "live":
                    at = first_event(client)
                else:
                    session = Session(Settings(record_mode="all"), Path(tmp) / f"r{r}.json", "bench::record")
                    session.start()
                    try:
                        at = first_event(client)
                    finally:
                        session.stop()
                    assert session.cassette.recorded
                if r >= 2:
                    times[mode].append(at)
    live, rec = statistics.median(times["live"]), statistics.median(times["recording"])
    log(f"  record: time to first event live {live * 1e3:.2f} ms, recording {rec * 1e3:.2f} ms ({(rec - live) * 1e3:+.2f} ms)")
    row = Row(
        "record",
        f"time to first event, Anthropic stream ({EVENTS} events, {PAUSE * 1e3:.0f} ms pause after the first)",
        "live",
        live,
        {"live": live, "recording": rec},
    )
    row.ratios = {"recording - live (ms)": (rec - live) * 1e3}
    row.target = "within 1 ms of live"
    row.ok = abs(rec - live) <= 1e-3
    row.note = f"wall clock; {rounds} rounds; the whole stream took > {PAUSE * 1e3:.0f} ms, the first event did not wait for it"
    return [row]


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
