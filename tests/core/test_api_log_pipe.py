"""`frontline api` with its log on pipes nobody reads (stdout and stderr): once the pipes are
full every further log line would block, and the API must keep answering all the same."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.api.logs import DroppingQueueHandler
from core.db import upgrade_database
from tests.pg_cluster import free_port

TOKEN = "pipe-token"
PIPE_FILLERS = 3000
"""Each malformed request logs a warning (uvicorn: "Invalid HTTP request received"): far more
than a pipe's 64 KiB buffer holds."""


@pytest.fixture
def api_on_unread_pipes(tmp_path: Path) -> Iterator[int]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'frontline.db'}"
    upgrade_database(url)
    port = free_port()
    env = {**os.environ, "FRONTLINE_DATABASE_URL": url, "FRONTLINE_API_TOKENS": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "api", "--port", str(port), "--access-log"],
        env=env,
        stdout=subprocess.PIPE,  # never read
        stderr=subprocess.PIPE,  # never read
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            for _ in range(300):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    if process.poll() is not None:
                        pytest.fail(f"frontline api exited with {process.returncode}")
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        process.wait(0.1)
            else:
                pytest.fail("frontline api did not start")
        yield port
    finally:
        process.kill()
        process.wait()
        for pipe in (process.stdout, process.stderr):
            assert pipe is not None
            pipe.close()


def _malformed_request(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        try:
            sock.recv(1024)  # uvicorn answers 400 and closes; a TimeoutError: it hangs
        except ConnectionResetError:
            pass


def test_the_api_keeps_answering_with_its_log_on_a_pipe_nobody_reads(
    api_on_unread_pipes: int,
) -> None:
    port = api_on_unread_pipes
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,  # a hang is what this test catches: generous, never reached when it works
    ) as client:
        for n in range(PIPE_FILLERS):
            _malformed_request(port)
            if n % 500 == 0:  # the access log fills stdout meanwhile
                assert client.get("/healthz").status_code == 200
        made = client.post("/v1/calls/queued", json={"caller_number": "600"})
        assert made.status_code == 201
        assert client.get(f"/v1/calls/{made.json()['call_id']}").status_code == 200


def test_a_full_log_queue_drops_and_counts_instead_of_waiting() -> None:
    records: queue.Queue[logging.LogRecord | None] = queue.Queue(2)
    handler = DroppingQueueHandler(records)
    log = logging.getLogger("tests.full-queue")
    log.propagate = False
    log.addHandler(handler)
    try:
        for n in range(5):
            log.warning("line %d", n)
    finally:
        log.removeHandler(handler)
    assert records.qsize() == 2
    assert handler.take_dropped() == 3
    assert handler.take_dropped() == 0
