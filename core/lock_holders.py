"""Who holds a database lock that a long write waits for, in words a user can act on.

SQLite cannot say who holds its lock, but the operating system can: SQLite takes POSIX
advisory locks on the database file and, in WAL mode, on its `-shm` file, and Linux lists
them in /proc/locks with the process that holds each. Elsewhere the answer is "another
process".
"""

from __future__ import annotations

import os
from pathlib import Path

from core.i18n import words as _
from core.i18n.formats import format_number

LOCK_WAIT_VARIABLE = "FRONTLINE_REINDEX_LOCK_WAIT_SECONDS"


class DatabaseLocked(Exception):
    """Another process held the database's write lock for longer than we would wait."""


def _command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    words = [w.decode("utf-8", "replace") for w in raw.split(b"\0") if w]
    if words:
        words[0] = os.path.basename(words[0])
    line = " ".join(words)
    return line if len(line) <= 80 else line[:79] + "…"


def sqlite_lock_holders(path: str) -> list[str]:
    """The processes other than this one holding a write lock on a SQLite database.

    Args:
        path: the database file.

    Returns:
        "process PID (command line)" for each, or an empty list when none is known.
    """
    inodes: set[tuple[int, int]] = set()
    for suffix in ("", "-shm", "-wal"):
        try:
            stat = os.stat(path + suffix)
        except OSError:
            continue
        inodes.add((stat.st_dev, stat.st_ino))
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return []
    holders: dict[int, str] = {}
    for line in lines:
        fields = line.split()
        # "1: POSIX  ADVISORY  WRITE 1234 08:01:5678 120 120" (a waiting lock has "->")
        if len(fields) < 6 or "->" in fields[1] or fields[3] != "WRITE":
            continue
        try:
            pid = int(fields[4])
            major, minor, inode = fields[5].split(":")
            device = os.makedev(int(major, 16), int(minor, 16))
        except ValueError:
            continue
        if pid in (os.getpid(), -1) or (device, int(inode)) not in inodes:
            continue
        holders[pid] = f"process {pid} ({_command_line(pid) or 'gone'})"
    return list(holders.values())


def locked_message(holders: list[str], waited: float) -> str:
    """What to tell a user whose rebuild gave up waiting for the lock."""
    who = ", ".join(holders) if holders else _("another process (an import, a rebuild, an API)")
    return _(
        "the database is locked by {who}; waited {seconds} s for it. Run it again when "
        "that has finished, or wait longer with {variable}"
    ).format(who=who, seconds=format_number(waited), variable=LOCK_WAIT_VARIABLE)
