"""A user's project, as committed: its cassette recorded once (with MODEL_URL set, against a live
server), replayed with every socket refused."""

import os
import socket

import pytest

attempts = []


def _refuse(sock, address):
    attempts.append(address)
    raise ConnectionRefusedError(f"no network in this run (tried {address})")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    if os.environ.get("MODEL_URL"):  # recording: the model server is live
        yield
        return
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    yield
    assert attempts == [], f"the test reached the network: {attempts}"
