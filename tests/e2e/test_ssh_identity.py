"""Identity over SSH with a real sshd: one account, a key per person, each key forced to a
command that names its person (docs/ssh.md, as written there).

The test starts its own OpenSSH server (Debian's `openssh-server`: `make install` installs it,
scripts/install-system-deps) on a free loopback port, with its own host key, config and
authorized_keys; never the system's. It logs in as the test's own account, so it runs as root
or as anyone. Under CI=true it runs, never skips.
"""

from __future__ import annotations

import asyncio
import os
import select
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from core.db import make_engine, make_sessions
from core.identity import os_login
from core.models import Role
from core.services.agents import AgentNotFound, AgentService
from tests.core.test_search import seed
from tests.e2e.sip_stack import free_port

pytestmark = pytest.mark.slow

SSHD = "/usr/sbin/sshd"
FRONTLINE = Path(sys.executable).with_name("frontline")


@dataclass
class Server:
    port: int
    keys: Path
    database: str

    def ssh(self, person: str, *remote: str) -> subprocess.CompletedProcess[str]:
        """`ssh -i KEY -p PORT account@127.0.0.1 REMOTE…` with the person's key."""
        return subprocess.run(
            self.ssh_command(person, *remote),
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    def ssh_command(self, person: str, *remote: str, tty: bool = False) -> list[str]:
        return [
            "ssh", "-F", "/dev/null", "-i", str(self.keys / person), "-p", str(self.port),
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", f"UserKnownHostsFile={self.keys / 'known_hosts'}", "-o", "LogLevel=ERROR",
            *(["-tt"] if tty else ["-T"]), f"{os_login()}@127.0.0.1",
            *(["--", *remote] if remote else []),
        ]  # fmt: skip


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


def _run_db(url: str, work: str) -> list[tuple[object, ...]]:
    async def go() -> list[tuple[object, ...]]:
        engine = make_engine(url)
        try:
            async with engine.connect() as connection:
                return [tuple(row) for row in await connection.execute(text(work))]
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _set_role(url: str, name: str, role: Role) -> None:
    """`frontline agents set-role NAME ROLE` as a supervisor would (or `add`, if new)."""

    async def go() -> None:
        engine = make_engine(url)
        try:
            agents = AgentService(make_sessions(engine))
            try:
                await agents.set_role(name, role)
            except AgentNotFound:
                await agents.add(name, role)
        finally:
            await engine.dispose()

    asyncio.run(go())


@pytest.fixture
def server(sqlite_url: str, tmp_path: Path) -> Iterator[Server]:
    if not os.access(SSHD, os.X_OK) or shutil.which("ssh") is None:
        message = "sshd or ssh not installed (openssh-server: scripts/install-system-deps)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: the SSH tests must run)")
        pytest.skip(message)

    async def people() -> None:
        engine = make_engine(sqlite_url)
        try:
            await seed(make_sessions(engine))
        finally:
            await engine.dispose()

    asyncio.run(people())
    keys = tmp_path / "ssh"
    keys.mkdir(mode=0o700)
    _keygen(keys / "host_key")
    # The two ways docs/ssh.md describes: `--as-key NAME` on the key account, and a forced
    # look-up with a trusted FRONTLINE_AGENT. Whatever the client sends arrives in
    # SSH_ORIGINAL_COMMAND; the forced command decides what becomes of it.
    maria = _keygen(keys / "maria")
    jorge = _keygen(keys / "jorge")
    lookup_only = (
        f"FRONTLINE_AGENT=jorge FRONTLINE_TRUST_AGENT_ENV=1 exec {FRONTLINE} lookup --"
        ' \\"$SSH_ORIGINAL_COMMAND\\"'
    )
    (keys / "authorized_keys").write_text(
        f'restrict,pty,command="{FRONTLINE} --as-key maria" {maria}\n'
        f'restrict,pty,command="{lookup_only}" {jorge}\n'
    )
    port = free_port(socket.SOCK_STREAM)
    environment = {
        "FRONTLINE_KEY_ACCOUNT": os_login(),
        "FRONTLINE_DATABASE_URL": sqlite_url,
        "FRONTLINE_ENV_FILE": "/nonexistent",
        "FRONTLINE_DATA_DIR": str(tmp_path / "data"),
        "FRONTLINE_LANGUAGE": "en",  # the assertions read English words
    }
    (keys / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {keys / 'host_key'}\n"
        f"PidFile {keys / 'sshd.pid'}\nAuthorizedKeysFile {keys / 'authorized_keys'}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
        + "SetEnv "
        + " ".join(f"{k}={v}" for k, v in environment.items())
        + "\n"
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation
    daemon = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(keys / "sshd_config")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if daemon.poll() is not None:
                errors = daemon.stderr.read().decode() if daemon.stderr else ""
                pytest.fail(f"sshd did not start: {errors}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("sshd did not listen")
                time.sleep(0.05)
        yield Server(port, keys, sqlite_url)
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def _trail(url: str) -> list[tuple[object, ...]]:
    return _run_db(url, "SELECT actor, action, place FROM audit_event ORDER BY id")


def test_a_key_forced_to_as_key_acts_as_its_person_and_nobody_else(server: Server) -> None:
    looked = server.ssh("maria", "lookup", shlex.quote("jose nunez"))
    assert looked.returncode == 0, looked.stderr
    assert "José Núñez Pérez" in looked.stdout
    assert "655 44 33 22" not in looked.stdout and "•" in looked.stdout  # masked
    assert _trail(server.database) == [("maria", "lookup", "ssh 127.0.0.1")]

    # maria is not registered: branch staff, look-ups only, whatever she asks for.
    searched = server.ssh("maria", "search", "jose")
    assert searched.returncode != 0 and "maria (branch) may not search" in searched.stderr
    for sneaky in (["--agent", "sara", "audit"], ["frontline", "--as-key", "boss", "audit"]):
        refused = server.ssh("maria", *sneaky)
        assert refused.returncode == 2 and "not allowed" in refused.stderr, refused
    assert server.ssh("maria", "audit").returncode != 0  # a supervisor's command
    named = server.ssh("maria", "lookup", "jose", "--agent", "sara")
    assert named.returncode != 0  # an option of the top command, not of lookup's
    assert {actor for actor, *_ in _trail(server.database)} == {"maria"}

    # A role given by a supervisor counts at the next login, the same key.
    _set_role(server.database, "maria", Role.AGENT)
    assert server.ssh("maria", "search", "jose").returncode == 0
    assert ("maria", "search", "ssh 127.0.0.1") in _trail(server.database)


def test_the_console_over_ssh_t_opens_as_the_keys_person(server: Server) -> None:
    """`ssh -t` with maria's key and no command: her console, a look-up one (branch staff)."""
    command = server.ssh_command("maria", tty=True)
    console = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "TERM": "xterm-256color"},
    )  # fmt: skip
    assert console.stdin is not None and console.stdout is not None
    seen = b""
    deadline = time.monotonic() + 90
    try:
        while b"Look-up console" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([console.stdout], [], [], 1)
            if ready:
                chunk = os.read(console.stdout.fileno(), 65536)
                if not chunk:
                    break
                seen += chunk
        assert b"Look-up console" in seen, seen[-2000:]
        console.stdin.write(b"\x11")  # Ctrl+Q
        console.stdin.flush()
        console.wait(timeout=60)
    finally:
        if console.poll() is None:
            console.kill()
    rows = _run_db(server.database, "SELECT user_name, role FROM agent WHERE user_name = 'maria'")
    assert rows == [("maria", "branch")]


def test_a_key_forced_to_a_trusted_name_looks_up_and_runs_nothing_else(server: Server) -> None:
    looked = server.ssh("jorge", "ana garcia ruiz")
    assert looked.returncode == 0, looked.stderr
    assert "Ana García Ruiz" in looked.stdout and "•" in looked.stdout
    # Another name, another command: both are only the look-up's query, never run.
    sneaky = ("--agent sara audit", "audit", "; frontline audit", "$(id)")
    for words in sneaky:
        other = server.ssh("jorge", words)
        assert other.returncode in (0, 1), other
        said = other.stdout + other.stderr
        assert "uid=" not in said and "may not" not in said and "@" not in said
    revealed = server.ssh("jorge", "--reveal", "--reason", "x", "ana")  # a query too
    assert "622 333 444" not in revealed.stdout
    trail = _trail(server.database)
    assert {actor for actor, *_ in trail} == {"jorge"}
    assert all(action == "lookup" and place == "ssh 127.0.0.1" for _, action, place in trail)
    queries = {str(d) for (d,) in _run_db(server.database, "SELECT detail FROM audit_event")}
    assert any("query='--agent sara audit'" in d for d in queries)
    assert not _run_db(server.database, "SELECT 1 FROM agent WHERE user_name = 'sara'")
