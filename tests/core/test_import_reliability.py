"""Hostile files and faults: a bad row is a rejected row at its line (exit 1), never a failed
import (exit 3, for the database only); a locked database is waited out; files are private."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from console.widgets.local_time import local
from core.analytics.service import AnalyticsService
from core.config import Settings
from core.db import make_engine, make_sessions, sqlite_file
from core.importing import busy
from core.importing.runner import ImportInterrupted, import_file
from core.models import Customer, Interaction, Transaction
from tests.core.test_import import _cli, _count, _customer, _write

HEADER = "external_id,first_name,last_name\n"


def _rows(start: int, stop: int) -> str:
    return "".join(f"C{i},Name{i},Last{i}\n" for i in range(start, stop))


def _seed(db_url: str, tmp_path: Path) -> None:
    code, _, err = _cli(db_url, tmp_path, "customers", str(_write(tmp_path / "c.csv", HEADER
                                                                   + _rows(1, 3))))  # fmt: skip
    assert code == 0, err


@pytest.mark.parametrize(
    ("kind", "body", "line", "reason"),
    [
        ("transactions", "external_id,date,amount\nC1,2024-01-01,3\nC1,0001-01-01,10\n", 3,
         "date out of range in date: '0001-01-01'"),
        ("interactions", "external_id,at,channel,direction,subject\n"
         "C1,9999-12-31 23:00,phone,inbound,Hi\nC1,2024-01-01,phone,inbound,Hello\n", 2,
         "date out of range in at: '9999-12-31 23:00'"),
        ("customers", HEADER + "C1,Ana,Ruiz\nC2,Eva," + "x" * 1_200_000 + "\n", 3,
         "a field longer than 1,000,000 characters"),
        ("customers", HEADER + "C1,Ana,Ruiz\nC2,E\x00va,Mora\n", 3, "a NUL character"),
        ("customers", HEADER + "C1,Ana,Ruiz\nC2,Eva\n", 3,
         "2 fields but the header has 3 columns"),
        ("customers", HEADER + "C1,Ana,Ruiz\nC2,,Mora\n", 3, "missing first_name"),
    ],
    ids=["year-1", "year-9999", "20-MB-field", "NUL", "truncated-line", "no-first-name"],
)  # fmt: skip
def test_a_bad_row_is_rejected_at_its_line_and_the_rest_imported(
    db_url: str, tmp_path: Path, kind: str, body: str, line: int, reason: str
) -> None:
    _seed(db_url, tmp_path)
    source = _write(tmp_path / "f.csv", body)
    code, out, err = _cli(db_url, tmp_path, kind, str(source))
    assert code == 1, err
    assert err.startswith(f"{source}:{line}: {reason}")
    assert out.startswith("imported 1, rejected 1")


def test_an_unterminated_quote_rejects_its_own_line_only(db_url: str, tmp_path: Path) -> None:
    # It swallowed the next 198 rows into one field and reported "name too long".
    source = _write(
        tmp_path / "q.csv", HEADER + 'C1,"Ana,Ruiz\n' + _rows(2, 200) + 'C200,O"Neil,Moss\n'
    )
    code, out, err = _cli(db_url, tmp_path, "customers", str(source))
    assert code == 1, err
    assert err.startswith(f'{source}:2: a quote (") opened on this line is never closed')
    assert out.startswith("imported 199, rejected 1")
    assert asyncio.run(_first_names(db_url, "C199", "C200")) == ["Name199", 'O"Neil']


async def _first_names(db_url: str, *numbers: str) -> list[str]:
    engine = make_engine(db_url)
    try:
        return [(await _customer(make_sessions(engine), n)).first_name for n in numbers]
    finally:
        await engine.dispose()


async def test_a_quoted_line_break_is_still_one_field(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    source = _write(tmp_path / "n.csv", HEADER + 'C1,"Ana\nMaría",Ruiz\nC2,Eva,Mora\n')
    result = await import_file(engine, "customers", source, rejects_path=None)
    assert (result.imported, result.rejected) == (2, 0)
    assert (await _customer(sessions, "C1")).first_name == "Ana\nMaría"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
async def test_utf16_files_are_read(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path, codec: str
) -> None:
    source = tmp_path / "u.csv"
    source.write_bytes((HEADER + "C1,José,Núñez\n").encode(codec))  # was "binary content"
    result = await import_file(engine, "customers", source, rejects_path=None)
    assert (result.imported, result.rejected) == (1, 0)
    assert (await _customer(sessions, "C1")).last_name == "Núñez"


def test_a_moment_with_no_local_time_is_shown_as_stored() -> None:
    # An interaction at 9999-12-31 23:00 UTC crashed `lookup` and blanked the agent screen
    # in zones east of UTC; the import refuses such dates now, and display code survives.
    late = datetime(9999, 12, 31, 23, tzinfo=UTC)
    assert local(late, "Asia/Tokyo") == late


async def test_a_locked_database_is_waited_out(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("core.db.SQLITE_BUSY_TIMEOUT_MS", 50)
    refused = asyncio.Event()
    real = busy.is_busy

    def noticing(error: BaseException) -> bool:
        if real(error):
            refused.set()
            return True
        return False

    monkeypatch.setattr(busy, "is_busy", noticing)
    path = sqlite_file(sqlite_url)
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None)  # `search --reindex`, say
    holder.execute("BEGIN IMMEDIATE")
    engine = make_engine(sqlite_url)
    try:
        source = _write(tmp_path / "c.csv", HEADER + _rows(1, 11))
        task = asyncio.create_task(
            import_file(engine, "customers", source, rejects_path=None, batch_rows=4)
        )
        await asyncio.wait_for(refused.wait(), 60)
        holder.execute("COMMIT")
        result = await task
        assert (result.imported, result.rejected) == (10, 0)
        assert await _count(make_sessions(engine), Customer) == 10
    finally:
        holder.close()
        await engine.dispose()


async def test_a_database_that_stays_locked_says_what_was_committed(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("core.db.SQLITE_BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(busy, "LOCK_PATIENCE_SECONDS", 0.0)
    path = sqlite_file(sqlite_url)
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None)
    engine = make_engine(sqlite_url)

    def lock_after_the_first_batch(done: int, total: int) -> None:
        if not holder.in_transaction:
            holder.execute("BEGIN IMMEDIATE")

    try:
        source = _write(tmp_path / "t.csv", "external_id,date,amount\n" + "".join(
            f"C1,2024-01-{day:02d},{day}\n" for day in range(1, 11)))  # fmt: skip
        await _seed_direct(engine)
        with pytest.raises(ImportInterrupted) as interrupted:
            await import_file(
                engine, "transactions", source, rejects_path=None, batch_rows=4,
                progress=lock_after_the_first_batch,
                analytics=AnalyticsService(make_sessions(engine), Settings()),
            )  # fmt: skip
        holder.execute("ROLLBACK")
        assert "database is locked" in str(interrupted.value)
        result = interrupted.value.result
        assert (result.imported, result.committed_through) == (4, 5)
        assert await _count(make_sessions(engine), Transaction) == 4
    finally:
        holder.close()
        await engine.dispose()


async def _seed_direct(engine: AsyncEngine) -> None:
    async with make_sessions(engine)() as session, session.begin():
        session.add(Customer(external_id="C1", first_name="Ana", last_name="Ruiz"))


def _mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_a_new_sqlite_database_and_its_wal_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "frontline.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x TEXT)"))
            await connection.execute(text("INSERT INTO t VALUES ('34600111222')"))
            assert _mode(path) == 0o600  # was 0644: every local user could read customers
            for suffix in ("-wal", "-shm"):
                assert _mode(f"{path}{suffix}") == 0o600
        assert _mode(path.parent) == 0o700
    finally:
        await engine.dispose()


async def test_database_errors_never_carry_the_statements_values(engine: AsyncEngine) -> None:
    # Tracebacks in logs carried SQL parameters: caller numbers.
    with pytest.raises(DBAPIError) as raised:
        async with engine.connect() as connection:
            await connection.execute(
                text("SELECT no_such_column FROM interaction WHERE subject = :number"),
                {"number": "34600111222"},
            )
    assert "34600111222" not in str(raised.value)


def test_the_rejects_file_is_private(db_url: str, tmp_path: Path) -> None:
    source = _write(tmp_path / "r.csv", HEADER + "C1,,Ruiz\n")
    code, _, _ = _cli(db_url, tmp_path, "customers", str(source))
    assert code == 1
    assert _mode(tmp_path / "r.rejects.csv") == 0o600


async def test_no_interaction_or_customer_is_half_written_by_rejected_rows(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await _seed_direct(engine)
    source = _write(
        tmp_path / "i.csv",
        "external_id,at,channel,direction,subject\nC1,2024-01-01,phone,inbound,Hello\n"
        "C1,0001-01-01,phone,inbound,Old\n" + "C1,2024-01-02,phone,in\n",
    )
    result = await import_file(engine, "interactions", source, rejects_path=None)
    assert (result.imported, result.rejected) == (1, 2)
    assert await _count(sessions, Interaction) == 1


def test_a_draft_fallback_file_and_its_folder_are_private(tmp_path: Path) -> None:
    from core.calls.drafts import _atomic_write

    target = tmp_path / "drafts" / "agent-1.json"
    _atomic_write(target, '{"notes": "caller 34600111222"}')
    assert (_mode(target), _mode(target.parent)) == (0o600, 0o700)
