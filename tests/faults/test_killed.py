"""Every write's process killed (SIGKILL) in the middle of its writes, on both databases.

Whatever was acknowledged before the kill is there, nothing is half-written, and the next
write (a restarted console, the API started again, the command run again) works. The
console itself killed and hung up in a terminal: tests/console/test_crash_recovery.py and
test_hang_up.py.
"""

from __future__ import annotations

import pytest

from tests.faults.faults import Run, killed_api, killed_command, killed_writer
from tests.faults.writes import WRITES, Target, import_file

SERVICE_WRITES = ["draft", "save call", "offer answer", "quality score", "customer edit"]
SQLITE_ONLY = {"draft", "offer answer", "quality score", "customer edit"}
"""Kept to SQLite to keep the suite quick: each is one row in one transaction."""


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest) -> Target:
    fixture = "sqlite_target" if request.param == "sqlite" else "pg_target"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


def assert_whole(run: Run) -> None:
    assert run.verdict.lost == [], run
    assert run.verdict.half == [], run
    assert run.recovered, run


KILLED = [pytest.param(name, "sqlite_target", id=f"sqlite-{name}") for name in SERVICE_WRITES] + [
    pytest.param(name, "pg_target", id=f"postgresql-{name}")
    for name in SERVICE_WRITES
    if name not in SQLITE_ONLY
]


@pytest.mark.parametrize(("name", "database"), KILLED)
def test_a_writer_killed_mid_write_loses_nothing_acknowledged(
    name: str, database: str, request: pytest.FixtureRequest
) -> None:
    target: Target = request.getfixturevalue(database)
    run = killed_writer(WRITES[name], target, acks_before_kill=3, seed=len(name))
    assert len(run.acked) >= 3
    assert_whole(run)


def test_the_api_killed_mid_burst_loses_no_acknowledged_event(target: Target) -> None:
    run = killed_api(target, acks_before_kill=8, seed=1)
    assert len(run.acked) >= 8
    assert_whole(run)


def test_an_import_killed_part_way_leaves_whole_rows_and_runs_again(target: Target) -> None:
    write = WRITES["import batch"]
    args = ["import", "customers", str(import_file(target, 0))]
    run = killed_command(write, target, args, seed=2)
    assert run.acked == [0]  # run again to the end
    assert_whole(run)


def test_a_rebuild_killed_part_way_leaves_the_index_whole_and_runs_again(
    target: Target,
) -> None:
    run = killed_command(WRITES["index rebuild"], target, ["search", "--reindex"], seed=3)
    assert run.acked == [0]
    assert_whole(run)
