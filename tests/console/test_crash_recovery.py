"""The real console in a pseudo-terminal, killed mid-call (SIGKILL, SIGHUP): no word lost."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import re
import signal
import struct
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from core.db import make_engine, make_sessions
from tests.console.seed import seed

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

FRONTLINE = str(Path(sys.executable).with_name("frontline"))
F6 = "\x1b[17~"
CTRL_N = "\x0e"
CTRL_Q = "\x11"


class Console:
    """`frontline --agent NAME` in a 120×40 pseudo-terminal whose output is drained."""

    def __init__(self, env: dict[str, str], agent: str) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: become the console
            os.execve(FRONTLINE, [FRONTLINE, "--agent", agent], env)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.output = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output.extend(chunk)

    def type(self, keys: str, pause: float = 0.02) -> None:
        for key in [keys] if keys.startswith("\x1b") else list(keys):
            os.write(self.fd, key.encode())
            time.sleep(pause)

    def settle(self, since: int, quiet: float = 0.3, timeout: float = 30) -> None:
        """Wait until the screen has been redrawn after `since` bytes (a key took effect)
        and nothing more has been drawn for `quiet` seconds."""
        wait_for(lambda: len(self.output) > since, "the screen to be redrawn", timeout)
        deadline = time.monotonic() + timeout
        size = len(self.output)
        while time.monotonic() < deadline:
            time.sleep(quiet)
            if len(self.output) == size:
                return
            size = len(self.output)

    def press(self, keys: str) -> None:
        """Type `keys` and wait until the console has drawn what they did."""
        since = len(self.output)
        self.type(keys)
        self.settle(since)

    def kill(self, sig: int) -> None:
        os.kill(self.pid, sig)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.")


def last_words(output: bytes, limit: int = 1500) -> str:
    """The end of what a console drew, as plain words (its messages say why it did not)."""
    words = b" ".join(ESCAPES.sub(b" ", output).split())
    return words[-limit:].decode("utf-8", "replace")


def wait_for(
    check: Callable[[], object], what: str, timeout: float = 60, shown: bytearray | None = None
) -> object:
    """`check()` once true; or fails, quoting the end of `shown` (a console's output)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    seen = f"; the console showed, last: {last_words(bytes(shown))}" if shown is not None else ""
    raise AssertionError(f"timed out waiting for {what}{seen}")


def test_the_draft_survives_sigkill_and_sighup(sqlite_url: str, tmp_path: Path) -> None:
    async def prepare() -> None:
        engine = make_engine(sqlite_url)
        await seed(make_sessions(engine))
        await engine.dispose()

    asyncio.run(prepare())
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "FRONTLINE_LANGUAGE": "en",  # the words looked for are English
        "FRONTLINE_DATABASE_URL": sqlite_url,
        "FRONTLINE_DATA_DIR": str(tmp_path / "data"),
        "FRONTLINE_ENV_FILE": str(tmp_path / "no.env"),
        "FRONTLINE_TRUST_AGENT_ENV": "1",  # `--agent maria`: a test, not a shared host
    }
    db = create_engine(sqlite_url.replace("+aiosqlite", ""))

    def query(sql: str) -> list[tuple[object, ...]]:
        with db.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]

    def draft_notes() -> str | None:
        rows = query("SELECT payload FROM call_draft")
        return json.loads(str(rows[0][0]))["notes"] if rows else None

    def ready() -> bool:
        return bool(query("SELECT 1 FROM agent WHERE user_name = 'maria'"))

    first = Console(env, "maria")
    wait_for(ready, "the console to start")  # the agent exists once the services are loaded
    first.type("luis perez")
    wait_for(lambda: b"C00000005" in first.output, "Luis to be found", shown=first.output)
    first.type("\r")
    wait_for(lambda: b"Customer since" in first.output, "Luis's record to open", shown=first.output)
    first.type(F6)
    wait_for(
        lambda: query("SELECT id FROM call WHERE state = 'answered' AND customer_id = 5"),
        "the call to start",
    )
    # The notes take the cursor once the call panel is drawn; its first draft is saved then.
    wait_for(lambda: draft_notes() == "", "the new call's draft", shown=first.output)
    first.settle(0)
    notes = "Wants [b]fibre[/b] at Calle Mayor 5, café — call back"
    first.type(notes)
    wait_for(lambda: draft_notes() == notes, "the draft to be saved", timeout=30)
    first.kill(signal.SIGKILL)

    second = Console(env, "maria")
    wait_for(
        lambda: b"Call restored" in second.output, "the call to be restored", shown=second.output
    )
    second.settle(0)
    second.press(CTRL_N)
    second.type(" (1)")
    wait_for(lambda: draft_notes() == notes + " (1)", "the restored notes to be extended")
    second.kill(signal.SIGHUP)

    third = Console(env, "maria")
    wait_for(
        lambda: b"Call restored" in third.output,
        "the call to be restored again",
        shown=third.output,
    )
    third.settle(0)
    third.press(CTRL_N)
    third.type(" (2)")
    wait_for(lambda: draft_notes() == notes + " (1) (2)", "the notes after a hang-up")
    third.type(CTRL_Q)
    third.kill(signal.SIGTERM)
    call = query("SELECT state, customer_id FROM call")
    assert call == [("answered", 5)]
    db.dispose()
