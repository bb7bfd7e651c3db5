"""A real SIP peer for the end-to-end tests: `frontline api`, Kamailio with the generated
config and SIPp phones, all on 127.0.0.1, each a subprocess stopped at the end."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from core.db import upgrade_database
from core.pbx.kamailio import KamailioOptions, render

SCENARIOS = Path(__file__).parent / "sipp"
TOKEN = "e2e-kamailio-token"
RING_SECONDS = 2
"""How long Kamailio lets an agent's phone ring before trying the next agent."""
RETRY_SECONDS = 4
"""How often Kamailio asks again for a caller waiting in the queue: longer than the 3 s after
which a transaction's branch times out (fr_timer), as the default 5 s is; a wait once ended
the caller's call with a 408 there."""
CALLER = "+34600111222"
"""A '+' that must survive the trip (a query string would turn it into a space)."""


def kamailio_binary() -> str | None:
    # /usr/sbin is not on every user's PATH.
    return shutil.which("kamailio") or shutil.which("kamailio", path="/usr/sbin")


def missing_tools() -> list[str]:
    missing = [] if kamailio_binary() else ["kamailio"]
    return missing + ([] if shutil.which("sipp") else ["sipp"])


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(
    what: str, ready: Callable[[], bool], process: subprocess.Popen[bytes], seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        with contextlib.suppress(OSError, httpx.HTTPError):
            if ready():
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within {seconds} s")


def _sip_options_answered(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.3)
        local = sock.getsockname()[1]
        message = (
            f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-probe{time.monotonic_ns()}\r\n"
            f"From: <sip:probe@127.0.0.1:{local}>;tag=probe\r\nTo: <sip:127.0.0.1:{port}>\r\n"
            "Call-ID: probe@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        sock.sendto(message.encode(), ("127.0.0.1", port))
        try:
            return sock.recv(4096).startswith(b"SIP/2.0 200")
        except TimeoutError:
            return False


@dataclass
class SipStack:
    workdir: Path
    api_port: int
    sip_port: int
    database: Path
    commands_port: int = 0
    """Where Kamailio takes Frontline's commands (HTTP over TCP)."""
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"http://127.0.0.1:{self.api_port}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=5,
        )

    def agent(self, name: str, port: int, queue: str) -> None:
        """An available agent whose phone is a SIPp UAS on `port`."""
        with self.api as api:
            api.put(
                f"/v1/agents/{name}/contact",
                json={"sip_contact": f"sip:{name}@127.0.0.1:{port}", "queues": [queue]},
            ).raise_for_status()
            api.post(f"/v1/agents/{name}/state", json={"state": "available"}).raise_for_status()

    def phone(
        self, scenario: str, name: str, port: int, *keys: tuple[str, str]
    ) -> subprocess.Popen[bytes]:
        """An agent's phone (a SIPp UAS) waiting for its one call."""
        args = ["-s", name, "-p", str(port)]
        for key, value in keys:
            args += ["-key", key, value]
        return self._sipp(scenario, args, background=True)

    def call(
        self,
        scenario: str,
        queue: str,
        talk_ms: int = 300,
        background: bool = False,
        caller: str = CALLER,
        log: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """A caller (SIPp UAC) dialling `queue` through Kamailio from `caller`; returns when
        SIPp is done, or at once with `background`. `log`: where the scenario's <log> lines go."""
        args = [f"127.0.0.1:{self.sip_port}", "-s", queue, "-p", str(free_port())]
        args += ["-key", "caller", caller, "-d", str(talk_ms)]
        if log is not None:
            args += ["-trace_logs", "-log_file", str(log)]
        return self._sipp(scenario, args, background=background)

    def _sipp(self, scenario: str, args: list[str], background: bool) -> subprocess.Popen[bytes]:
        command = ["sipp", *args, "-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1"]
        command += ["-m", "1", "-nostdin", "-timeout", "20s", "-timeout_error"]
        command += ["-trace_err", "-error_file", str(self.workdir / f"{scenario}.errors.log")]
        process = subprocess.Popen(
            command, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.processes.append(process)
        if not background:
            process.wait(timeout=30)
        return process

    def rows(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with contextlib.closing(sqlite3.connect(self.database)) as db:
            return db.execute(sql, params).fetchall()

    def call_events(self, external_id: str) -> list[str]:
        return [
            str(kind)
            for (kind,) in self.rows(
                "SELECT e.kind FROM call_event e JOIN call_reference r ON r.call_id = e.call_id "
                "WHERE r.external_id = ? ORDER BY e.id",
                external_id,
            )
        ]

    def calls_of_queue(self, queue: str) -> list[tuple[object, ...]]:
        """(external id, state, agent, caller number) of the queue's calls, oldest first."""
        return self.rows(
            "SELECT r.external_id, c.state, a.user_name, c.caller_number FROM call c "
            "JOIN call_reference r ON r.call_id = c.id LEFT JOIN agent a ON a.id = c.agent_id "
            "WHERE c.queue = ? ORDER BY c.id",
            queue,
        )

    def agent_state(self, name: str) -> tuple[object, ...]:
        return self.rows("SELECT state, state_reason FROM agent WHERE user_name = ?", name)[0]

    def settle(
        self, queue: str, done: Callable[[list[tuple[object, ...]]], bool], seconds: float = 5
    ) -> None:
        """Wait for Kamailio's last reports of `queue`'s calls (they follow the SIP
        messages by a few milliseconds)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not done(self.calls_of_queue(queue)):
            time.sleep(0.05)


@contextlib.contextmanager
def sip_stack(workdir: Path) -> Iterator[SipStack]:
    """The API on an SQLite file, Kamailio in front of it; both stopped on exit."""
    database = workdir / "frontline.db"
    url = f"sqlite+aiosqlite:///{database}"
    upgrade_database(url)
    stack = SipStack(
        workdir, free_port(socket.SOCK_STREAM), free_port(), database, free_port(socket.SOCK_STREAM)
    )
    env = {**os.environ, "FRONTLINE_DATABASE_URL": url, "FRONTLINE_API_TOKENS": TOKEN}
    try:
        api = subprocess.Popen(
            [sys.executable, "-m", "console.cli", "api", "--port", str(stack.api_port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(workdir / "api.log").open("wb"),
        )
        stack.processes.append(api)
        _wait("frontline api", lambda: stack.api.get("/healthz").status_code == 200, api, 60)
        config = workdir / "kamailio.cfg"
        config.write_text(
            render(
                KamailioOptions(
                    api_url=f"http://127.0.0.1:{stack.api_port}",
                    token=TOKEN,
                    listen=f"udp:127.0.0.1:{stack.sip_port}",
                    ring_seconds=RING_SECONDS,
                    retry_seconds=RETRY_SECONDS,
                    queue_seconds=10,
                    http_timeout=5,  # generous: CI runs other tests beside these
                    commands=f"tcp:127.0.0.1:{stack.commands_port}",
                )
            ),
            encoding="utf-8",
        )
        kamailio = subprocess.Popen(
            [
                kamailio_binary() or "kamailio",
                "-DD",
                "-E",
                "-f",
                str(config),
                "-w",
                str(workdir),
                "-P",
                str(workdir / "kamailio.pid"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=(workdir / "kamailio.log").open("wb"),
        )
        stack.processes.append(kamailio)
        _wait("kamailio", lambda: _sip_options_answered(stack.sip_port), kamailio, 15)
        # The consoles' blind transfers, sent to Kamailio's command listener.
        runner = [sys.executable, "-m", "console.cli", "pbx", "listen", "kamailio"]
        runner += ["--port", str(stack.commands_port), "--token", TOKEN]
        stack.processes.append(
            subprocess.Popen(
                runner,
                env={**env, "FRONTLINE_LANGUAGE": "en"},
                stdout=subprocess.DEVNULL,
                stderr=(workdir / "runner.log").open("wb"),
            )
        )
        yield stack
    finally:
        for process in reversed(stack.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
