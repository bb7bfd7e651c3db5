"""Every write with SQLite's write lock held by another connection, then let go.

The write made while the lock is held is either kept (a draft goes to the local file, an
import waits) or refused with a message naming the lock; none is half-written, every
acknowledged one is there, and the next write works in the same process.
"""

from __future__ import annotations

import asyncio
import os
import subprocess

import pytest

from tests.faults.faults import Run, api_for, import_under_lock, under_fault
from tests.faults.writes import (
    DRAFT_KEPT_LOCALLY,
    FRONTLINE,
    IMPORT_ROWS,
    WRITES,
    Target,
    import_file,
    run_cli,
)
from tests.sqlite_lock import Lock

IN_PROCESS = ["draft", "save call", "offer answer", "quality score", "customer edit", "API event"]


def assert_whole(run: Run) -> None:
    assert run.verdict.lost == [], run
    assert run.verdict.half == [], run
    assert run.recovered, run


@pytest.mark.parametrize("name", IN_PROCESS)
def test_a_write_under_the_lock_is_refused_clearly_and_the_next_one_works(
    name: str, sqlite_target: Target, quick_lock: None
) -> None:
    lock = Lock(sqlite_target.url)
    write = WRITES[name]
    with api_for(name, sqlite_target) as api:
        sqlite_target.api_url = api
        run = asyncio.run(under_fault(write, sqlite_target, "locked", lock.__enter__, lock.release))
    assert_whole(run)
    if name == "draft":  # kept in the local file, and the console says so
        assert run.acked == [0, 1, 2] and run.notices == [DRAFT_KEPT_LOCALLY], run
        return
    assert run.acked == [0, 2], run
    (told,) = run.told
    if name == "API event":
        status, retry = told.split(":", 1)[0].split(" Retry-After=")
        assert status == "503" and int(retry) >= 1 and "database unavailable" in told, told
    else:  # what the console puts in "The call was not saved (…). Nothing is lost: …"
        assert told == "the database is locked by another program", told


def test_an_import_waits_for_the_lock_and_then_commits_every_row(sqlite_target: Target) -> None:
    run = import_under_lock(sqlite_target)
    assert run.acked == [1], run
    assert_whole(run)


def test_a_rebuild_under_the_lock_says_who_holds_it_and_the_next_one_works(
    sqlite_target: Target,
) -> None:
    write = WRITES["index rebuild"]
    sqlite_target.extra_env["FRONTLINE_REINDEX_LOCK_WAIT_SECONDS"] = "1"
    run = asyncio.run(_rebuild_under_lock(write, sqlite_target))
    assert_whole(run)
    (told,) = run.told
    assert "could not rebuild the search index" in told
    assert "locked" in told and "waited 1 s" in told, told
    assert "FRONTLINE_REINDEX_LOCK_WAIT_SECONDS" in told, told
    assert f"process {os.getpid()} (" in told, told  # the holder: this test's connection


async def _rebuild_under_lock(write, target: Target) -> Run:  # type: ignore[no-untyped-def]
    lock = Lock(target.url)
    return await under_fault(write, target, "locked", lock.__enter__, lock.release)


def test_a_rebuild_behind_a_postgres_table_lock_says_who_holds_it(pg_target: Target) -> None:
    """PostgreSQL's form of the same fault: another session holds a lock on the index's
    tables (a long report, a stuck transaction); the rebuild waits the setting's seconds."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(pg_target.url)
    pg_target.extra_env["FRONTLINE_REINDEX_LOCK_WAIT_SECONDS"] = "1"

    async def hold_and_rebuild() -> str:
        holder = await asyncpg.connect(
            user=url.username, host=url.host, port=url.port, database=url.database,
            server_settings={"application_name": "stuck-report"},
        )  # fmt: skip
        try:
            async with holder.transaction():
                await holder.execute("LOCK TABLE search_word IN ACCESS SHARE MODE")
                done = await asyncio.to_thread(run_cli, pg_target, "search", "--reindex")
        finally:
            await holder.close()
        assert done.returncode == 1
        return done.stderr

    told = asyncio.run(hold_and_rebuild())
    assert "could not rebuild the search index" in told and "waited 1 s" in told, told
    assert "stuck-report" in told and "LOCK TABLE search_word" in told, told
    again = run_cli(pg_target, "search", "--reindex")
    assert again.returncode == 0 and again.stdout.startswith("indexed "), again.stderr


def test_an_import_that_finds_the_database_locked_says_so_once_and_goes_on(
    sqlite_target: Target,
) -> None:
    """It used to wait up to five minutes in silence; now it says who holds the lock."""
    path = import_file(sqlite_target, 7)
    lock = Lock(sqlite_target.url).__enter__()
    importing = subprocess.Popen(
        [FRONTLINE, "import", "customers", str(path)],
        env=sqlite_target.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert importing.stderr is not None
        said = importing.stderr.readline()  # it waits, so the lock is released only after
    finally:
        lock.release()
    out, rest = importing.communicate(timeout=120)
    assert importing.returncode == 0, rest
    assert said.startswith(f"the database is locked by process {os.getpid()} ("), said
    assert said.rstrip().endswith("the import waits for it (up to 300 s) and then goes on"), said
    assert "locked" not in rest, rest  # once, not for every batch
    assert out.startswith(f"imported {IMPORT_ROWS:,}") or str(IMPORT_ROWS) in out, out
