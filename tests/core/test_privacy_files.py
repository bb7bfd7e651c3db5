"""Every file Frontline writes is readable by its owner only, whatever the umask: the default
SQLite database and its -wal and -shm, the agents' draft files, import rejects, exports."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from console.cli import frontline
from core.calls.drafts import CallDraft
from core.config import load_settings
from core.services import make_services


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual 022: what a program does not restrict, others can read."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def run(data: Path, *args: str) -> Result:
    env = {
        "FRONTLINE_DATA_DIR": str(data),  # the default database lives here
        "FRONTLINE_DATABASE_URL": "",
        "FRONTLINE_ENV_FILE": "/nonexistent",
        "FRONTLINE_TRUST_AGENT_ENV": "1",
        "FRONTLINE_AGENT": "sara",
    }
    return CliRunner().invoke(frontline, list(args), env=env)


def _loose(*roots: Path) -> list[str]:
    """Files (and folders) under `roots` that someone but their owner may read or write."""
    found = []
    for root in roots:
        for path in [root, *root.rglob("*")] if root.is_dir() else [root]:
            mode = stat.S_IMODE(path.stat().st_mode)
            if path.is_file() and mode & 0o077:
                found.append(f"{path}: {oct(mode)}")
    return found


def test_every_file_frontline_writes_is_its_owners_only(loose_umask: None, tmp_path: Path) -> None:
    data = tmp_path / "data"
    built = run(data, "demo", "--customers", "30", "--no-open")
    assert built.exit_code == 0, built.output
    database = next(data.rglob("*.db"))
    # While a console has it open, the write-ahead log and shared memory exist beside it.
    held = sqlite3.connect(database)
    held.execute("PRAGMA journal_mode=WAL")
    held.execute("CREATE TABLE IF NOT EXISTS t_probe (x)")
    held.execute("INSERT INTO t_probe VALUES (1)")
    held.commit()
    held.execute("DROP TABLE t_probe")
    held.commit()
    try:
        assert Path(f"{database}-wal").exists() and Path(f"{database}-shm").exists()
        looked = run(data, "lookup", "C00000001")
        assert looked.exit_code == 0, looked.output
        assert _loose(data) == []
    finally:
        held.close()

    sheet = tmp_path / "people.csv"
    sheet.write_text("external_id,first_name,last_name,birth_date\nZ1,Eva,Sol,not a date\n")
    imported = run(data, "import", "customers", str(sheet))
    assert imported.exit_code == 1 and "rejected 1" in imported.output
    rejects = tmp_path / "people.rejects.csv"
    assert rejects.exists() and _loose(rejects) == []

    exported = tmp_path / "C00000001.json"
    out = run(data, "privacy", "export", "C00000001", "-o", str(exported))
    assert out.exit_code == 0, out.output
    assert json.loads(exported.read_text())["tables"]["customer"] and _loose(exported) == []

    async def draft() -> Path:
        settings = load_settings(
            {"FRONTLINE_DATA_DIR": str(data), "FRONTLINE_ENV_FILE": "/nonexistent"}
        )
        services = make_services(settings)
        try:
            call = CallDraft(None, None, "Unknown caller", "+34 600 000 000", datetime.now(UTC))
            services.drafts.save_local(1, call.edited(notes="the caller's card number is …"))
            return services.drafts.fallback_path(1)
        finally:
            await services.close()

    path = asyncio.run(draft())
    assert path.exists() and _loose(data) == []
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0  # its folder too
