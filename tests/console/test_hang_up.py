"""A closed terminal (SIGHUP, its master side gone) with the console as its own process.

The console must write the draft with the last keys typed, sign the agent out as it does on
leaving, and exit within seconds, without getting stuck writing to the dead terminal.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import select
import struct
import sys
import termios
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from core.db import make_engine, make_sessions
from tests.console.seed import seed
from tests.console.test_crash_recovery import F6, FRONTLINE, wait_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

EXIT_WITHIN = 8.0
"""Seconds a hung-up console may take to write its draft and leave (a loaded machine)."""


class Terminal:
    """`frontline --agent NAME` as the session leader of an 80×24 pseudo-terminal."""

    def __init__(self, env: dict[str, str], agent: str) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: become the console
            os.execve(FRONTLINE, [FRONTLINE, "--agent", agent], env)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.output = bytearray()
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        # Never blocked in read(): closing the master must really close it (a read in
        # progress would hold the file open, and the console would never see the hang-up).
        while not self._stop.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output.extend(chunk)

    def type(self, keys: str) -> None:
        for key in [keys] if keys.startswith("\x1b") else list(keys):
            os.write(self.fd, key.encode())
            time.sleep(0.02)

    def stop_reading(self) -> None:
        """Leave the console's output unread (as a terminal being closed does)."""
        self._stop.set()
        self._reader.join()

    def close(self) -> float | None:
        """Close the terminal (its master side); seconds until the console exited, or None
        if it was still running after EXIT_WITHIN (then it is killed)."""
        self._stop.set()
        self._reader.join()
        os.close(self.fd)
        closed = time.monotonic()
        while time.monotonic() - closed < EXIT_WITHIN:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                return time.monotonic() - closed
            time.sleep(0.05)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        return None


def test_closing_the_terminal_saves_the_last_words_and_leaves(
    sqlite_url: str, tmp_path: Path
) -> None:
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

    console = Terminal(env, "maria")
    wait_for(
        lambda: query("SELECT 1 FROM agent WHERE user_name = 'maria'"),
        "the console",
        shown=console.output,
    )
    console.type("luis perez")
    wait_for(lambda: b"C00000005" in console.output, "Luis to be found", shown=console.output)
    console.type("\r")
    wait_for(
        lambda: b"Customer since" in console.output, "Luis's record to open", shown=console.output
    )
    console.type(F6)
    wait_for(lambda: draft_notes() == "", "the new call's draft", shown=console.output)
    time.sleep(0.5)  # the notes have the cursor
    console.type("Wants fibre")
    wait_for(lambda: draft_notes() == "Wants fibre", "the first words' draft", shown=console.output)
    console.type(", call back at 5")  # the last second: not yet in any draft
    wait_for(
        lambda: b"back at 5" in console.output, "the last words on screen", shown=console.output
    )
    # A terminal closing stops reading first: the console's output backs up (its event loop
    # then waits on Textual's full output queue), and only then does the terminal go.
    console.stop_reading()
    console.type(" and more" * 40)
    time.sleep(1.0)
    took = console.close()
    try:
        assert took is not None, f"the console was still running {EXIT_WITHIN:.0f} s after"
        notes = draft_notes()
        assert notes is not None and notes.startswith("Wants fibre, call back at 5"), notes
        # signed out as on leaving: offline, unless the call is still theirs (it is)
        assert query("SELECT state FROM call") == [("answered",)]
    finally:
        db.dispose()
