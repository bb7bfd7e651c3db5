"""Every write with PostgreSQL down (a throwaway cluster of this module's own, stopped at
once as in a crash, then started again; never the shared server).

The write made while the server is down is kept (a draft, in the local file) or refused with
a message that says the database cannot be reached; none is half-written, every acknowledged
one is there, and once the server is back the next write works in the same process.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.engine import make_url

from tests.faults.faults import api_for, under_fault
from tests.faults.writes import DRAFT_KEPT_LOCALLY, WRITES, Target
from tests.pg_cluster import Cluster


@pytest.mark.parametrize("name", list(WRITES))
def test_a_write_with_postgres_down_is_refused_clearly_and_the_next_one_works(
    name: str, down_target: Target, down_cluster: Cluster
) -> None:
    write = WRITES[name]
    with api_for(name, down_target) as api:
        down_target.api_url = api
        run = asyncio.run(
            under_fault(write, down_target, "down", down_cluster.stop, down_cluster.start)
        )
    assert run.verdict.lost == [] and run.verdict.half == [], run
    assert run.recovered, run
    if name == "draft":
        assert run.acked == [0, 1, 2] and run.notices == [DRAFT_KEPT_LOCALLY], run
        return
    assert run.acked == ([2] if write.command else [0, 2]), run
    (told,) = run.told
    if name == "API event":
        assert told.startswith("503 Retry-After=") and "database unavailable" in told, told
        return
    # the console and the commands say it plainly: "The call was not saved (the database
    # cannot be reached (PostgreSQL at 127.0.0.1:PORT)). Nothing is lost: …"
    url = make_url(down_target.url)
    plain = f"the database cannot be reached (PostgreSQL at {url.host}:{url.port})"
    assert plain in told and "Errno" not in told and "Connect call" not in told, told
    if name == "import batch":
        assert "import failed" in told and "nothing was imported" in told, told
    elif name == "index rebuild":
        assert told.startswith("Error: could not rebuild the search index of "), told
    else:
        assert told == plain, told
