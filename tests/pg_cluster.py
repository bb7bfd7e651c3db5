"""A throwaway PostgreSQL cluster of a test's own (initdb + pg_ctl on a free port in a
temporary directory), for tests that stop, kill or restart the server: never the shared one."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.db import upgrade_database

BIN_DIRS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


@dataclass
class Cluster:
    url: str
    pg_ctl: list[str]

    def restart(self) -> None:
        subprocess.run(
            [*self.pg_ctl, "restart", "-m", "fast", "-w"], check=True, capture_output=True
        )

    def stop(self) -> None:
        """Stop it at once (connections are cut, as in a crash or a failover)."""
        subprocess.run(
            [*self.pg_ctl, "stop", "-m", "immediate", "-w"], check=True, capture_output=True
        )

    def start(self) -> None:
        subprocess.run([*self.pg_ctl, "start", "-w"], check=True, capture_output=True)

    def start_if_stopped(self) -> None:
        """Start it unless it runs (a test that failed while it was stopped)."""
        if subprocess.run([*self.pg_ctl, "status"], capture_output=True).returncode != 0:
            self.start()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A migrated cluster, removed at the end; skips (fails under CI) without the binaries."""
    if not BIN_DIRS:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL server binaries are needed (CI=true)")
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql")
    bin_dir = Path(BIN_DIRS[-1])
    home = Path(tempfile.mkdtemp(prefix="frontline-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to postgres
        shutil.chown(home, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = home / "data", free_port()
    subprocess.run(
        [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(home / "log"),
              "-o", options]  # fmt: skip
    subprocess.run([*pg_ctl, "start", "-w"], check=True, capture_output=True)
    try:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
        upgrade_database(url)
        yield Cluster(url, pg_ctl)
    finally:
        subprocess.run([*pg_ctl, "stop", "-m", "immediate", "-w"], capture_output=True)
        with contextlib.suppress(OSError):
            shutil.rmtree(home)
