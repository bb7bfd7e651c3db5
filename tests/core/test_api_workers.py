"""`frontline api --workers 2`: two processes on one port, one truth in the database."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable
from pathlib import Path

import httpx
from sqlalchemy import func, select

from core.db import make_engine, make_sessions
from core.models import Call, CallEvent

TOKEN = "workers-token"
ROOT = Path(__file__).resolve().parents[2]


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _stored(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        async with make_sessions(engine)() as session:
            calls = (await session.execute(select(func.count()).select_from(Call))).scalar_one()
            events = (
                await session.execute(select(func.count()).select_from(CallEvent))
            ).scalar_one()
            return int(calls), int(events)
    finally:
        await engine.dispose()


async def test_two_workers_apply_each_event_once_and_stop_together(db_url: str) -> None:
    port = _port()
    env = {**os.environ, "FRONTLINE_DATABASE_URL": db_url, "FRONTLINE_API_TOKENS": TOKEN}
    env["FRONTLINE_ENV_FILE"] = "/nonexistent"
    api = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "api", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        ) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert api.poll() is None and time.monotonic() < deadline, "the API did not start"
                await asyncio.sleep(0.2)

            # The same event sent 20 times at once (a phone system retrying), and 20 others.
            def queued(n: int, key: str) -> Awaitable[httpx.Response]:
                body = {"caller_number": f"+3460000{n:04d}", "external_id": f"w{n}"}
                return client.post("/v1/calls/queued", json=body, headers={"Idempotency-Key": key})

            answers = await asyncio.gather(
                *(queued(0, "same-key") for _ in range(20)),
                *(queued(n, f"key-{n}") for n in range(1, 21)),
            )
        assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers]
        firsts = [a for a in answers[:20] if a.status_code == 201]
        assert len(firsts) == 1  # one applied; the others replayed its answer
        assert len({a.json()["call_id"] for a in answers[:20]}) == 1
        assert await _stored(db_url) == (21, 21)
    finally:
        api.send_signal(signal.SIGTERM)
        try:
            api.wait(20)
        finally:
            if api.poll() is None:
                api.kill()
    assert api.returncode == 0, api.stderr.read().decode() if api.stderr else ""
