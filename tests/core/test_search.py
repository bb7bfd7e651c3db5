"""Customer search: every kind of query, on SQLite and PostgreSQL, through the real index."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.search.service import SearchService
from core.services.customers import CustomerService

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

PEOPLE = [
    # key, first, last, city, phones, emails
    ("maria_mad", "María", "García López", "Madrid", ["+34 612 34 56 78"], ["MGarcia@Example.com"]),
    ("maria_sev", "María", "García López", "Sevilla", ["+34 699 11 12 22"], ["mgl@correo.es"]),
    ("jose", "José", "Núñez Pérez", "Málaga", ["0034 655 44 33 22"], ["jose.nunez@correo.es"]),
    ("ana", "Ana", "García Ruiz", "Madrid", ["+34 622 333 444"], []),
    ("inigo", "Íñigo", "Zubizarreta Etxeberria", "Bilbao", ["944 123 456"], []),
    ("marta", "Marta", "González Fernández", "Zaragoza", ["+34 611 000 111"], []),
    ("mario", "Mario", "Garcés Lorenzo", "Huesca", ["+34 611 000 222"], []),
    ("lucia", "Lucía", "Fernández Ortega", "León", ["+34 611 000 333"], []),
    ("carmen", "Carmen", "Martínez Sánchez", "Murcia", ["+34 611 000 444"], []),
    ("soto", "Pablo", "Soto", "Cádiz", [], []),
    ("sotomayor", "Pablo", "Sotomayor", "Cádiz", [], []),
    ("sota", "Pablo", "Sota", "Cádiz", [], []),
    ("markup", "[red]x[/red]", "Tables \x1b[2J", "Bilbao", ["+34 633 000 111"], []),
]


async def seed(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """The people above through CustomerService.create, later ones more recently active."""
    service = CustomerService(sessions)
    ids: dict[str, int] = {}
    for position, (key, first, last, city, phones, emails) in enumerate(PEOPLE):
        customer = await service.create(first, last, phones=phones, emails=emails, city=city)
        assert customer.id is not None
        ids[key] = customer.id
        await set_activity(sessions, customer.id, NOW - timedelta(days=100 - position))
    return ids


async def set_activity(
    sessions: async_sessionmaker[AsyncSession], customer_id: int, at: datetime
) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE customer SET last_activity_at = :at WHERE id = :id"),
            {"at": at.astimezone(UTC).replace(tzinfo=None), "id": customer_id},
        )


@pytest.fixture
async def people(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    return await seed(sessions)


@pytest.fixture
async def search(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[SearchService]:
    service = SearchService(sessions)
    yield service
    await service.close()


async def top(search: SearchService, query: str, n: int = 1) -> list[int]:
    return [hit.customer_id for hit in await search.search(query)][:n]


async def test_phone_numbers_in_any_format(search: SearchService, people: dict[str, int]) -> None:
    for query in (
        "+34 612 34 56 78",
        "612-345-678",
        "(612) 345678",
        "0034612345678",
        "612 34 56 78",
        "2345678",  # trailing seven digits
    ):
        hits = await search.search(query)
        assert hits and hits[0].customer_id == people["maria_mad"], query
        assert hits[0].matched == "phone"
    # A number stored with 0034 and a landline typed without the country code.
    assert await top(search, "+34 655 443 322") == [people["jose"]]
    assert await top(search, "944123456") == [people["inigo"]]
    caller = await search.by_phone("+34612345678")
    assert [hit.customer_id for hit in caller] == [people["maria_mad"]]
    assert caller[0].phone_tail == "5678"
    assert await search.by_phone("12345") == []  # too few digits to be anyone's number


async def test_emails_exact_any_case_and_by_local_part(
    search: SearchService, people: dict[str, int]
) -> None:
    hits = await search.search("mgarcia@EXAMPLE.com")
    assert [hit.customer_id for hit in hits] == [people["maria_mad"]]
    assert hits[0].matched == "email"
    assert await top(search, "mgarcia") == [people["maria_mad"]]
    assert await top(search, "jose.nunez") == [people["jose"]]
    assert await top(search, "jose.nunez@corr") == [people["jose"]]  # still typing
    assert await search.search("nobody@example.com") == []


async def test_customer_ids_with_or_without_prefix_and_zeros(
    search: SearchService, people: dict[str, int]
) -> None:
    number = people["jose"]
    for query in (f"C{number:08d}", f"c{number}", str(number), f"{number:08d}", f"C-{number}"):
        hits = await search.search(query)
        assert hits and hits[0].customer_id == number, query
        assert hits[0].matched == "id"
        assert hits[0].external_id == f"C{number:08d}"


async def test_names_without_accents_or_case(search: SearchService, people: dict[str, int]) -> None:
    assert await top(search, "nunez") == [people["jose"]]
    assert await top(search, "INIGO zubizarreta") == [people["inigo"]]
    assert await top(search, "Lucía FERNÁNDEZ") == [people["lucia"]]


async def test_typos_of_every_kind(search: SearchService, people: dict[str, int]) -> None:
    cases = {
        "lucia fernandez ortgea": "lucia",  # transposition
        "carmen martniez": "carmen",  # transposition
        "marta gonzales": "marta",  # substitution
        "marta gonzlez": "marta",  # deletion
        "marta gonzaalez": "marta",  # insertion
        "inigo zubizarata": "inigo",  # two edits in a long word
        "jsoe nunez": "jose",  # transposition in a short word
    }
    for query, key in cases.items():
        assert await top(search, query) == [people[key]], query


async def test_any_word_order_and_two_surnames(
    search: SearchService, people: dict[str, int]
) -> None:
    namesakes = {people["maria_mad"], people["maria_sev"]}
    assert set(await top(search, "garcia lopez maria", 2)) == namesakes
    assert set(await top(search, "lopez garcia", 2)) == namesakes
    assert await top(search, "gonzalez fernandez") == [people["marta"]]
    assert await top(search, "fernandez gonzalez marta") == [people["marta"]]


async def test_last_word_as_a_prefix_while_typing(
    search: SearchService, people: dict[str, int]
) -> None:
    assert await top(search, "marta gonz") == [people["marta"]]
    assert await top(search, "zubiz") == [people["inigo"]]
    assert await top(search, "carmen martin") == [people["carmen"]]
    assert await top(search, "carmen mrati") == [people["carmen"]]  # a typo while typing


async def test_short_prefixes_of_several_words_narrow_down(
    search: SearchService, people: dict[str, int]
) -> None:
    async def full_matches(query: str) -> set[int]:
        hits = await search.search(query, limit=20)
        best = hits[0].score // 1000  # thousands count the words matched
        return {hit.customer_id for hit in hits if hit.score // 1000 == best}

    broad = await full_matches("mar gar")
    narrower = await full_matches("mar gar lo")
    narrowest = await full_matches("mar gar lop")
    assert narrower == {people["maria_mad"], people["maria_sev"], people["mario"]}
    assert narrowest == {people["maria_mad"], people["maria_sev"]}
    assert narrowest < narrower <= broad
    # Customers matching fewer of the words may follow, always below the full matches.
    hits = await search.search("mar gar lop")
    assert {hit.customer_id for hit in hits[:2]} == narrowest
    assert all(hit.score < hits[1].score for hit in hits[2:])


async def test_more_words_matched_beat_fewer(search: SearchService, people: dict[str, int]) -> None:
    hits = await search.search("marta fernandez")
    assert hits[0].customer_id == people["marta"]
    assert people["lucia"] in [hit.customer_id for hit in hits[1:]]  # Fernández only
    assert hits[0].score > max(hit.score for hit in hits[1:])
    hits = await search.search("ana garcia ruiz")
    assert [hit.customer_id for hit in hits] == [people["ana"]]


async def test_exact_beats_prefix_beats_typo(search: SearchService, people: dict[str, int]) -> None:
    assert await top(search, "pablo soto", 3) == [
        people["soto"],
        people["sotomayor"],
        people["sota"],
    ]


async def test_namesakes_ordered_by_latest_activity(
    sessions: async_sessionmaker[AsyncSession], search: SearchService, people: dict[str, int]
) -> None:
    # Seville was active more recently (seeded later).
    assert await top(search, "maria garcia lopez", 2) == [people["maria_sev"], people["maria_mad"]]
    await set_activity(sessions, people["maria_mad"], NOW)
    hits = await search.search("maria garcia lopez")
    assert [hit.customer_id for hit in hits[:2]] == [people["maria_mad"], people["maria_sev"]]
    # What tells them apart comes with the hits.
    assert [(hit.city, hit.phone_tail) for hit in hits[:2]] == [
        ("Madrid", "5678"),
        ("Sevilla", "1222"),
    ]


async def test_very_short_queries_are_cut_to_the_best_few(
    search: SearchService, people: dict[str, int]
) -> None:
    hits = await search.search("m", limit=3)
    assert len(hits) == 3
    assert all(hit.matched == "name" for hit in hits)
    assert await search.search("   ") == []
    assert await search.search("qqqqqqqqqq") == []


async def test_changes_through_the_service_reach_the_index(
    sessions: async_sessionmaker[AsyncSession], search: SearchService, people: dict[str, int]
) -> None:
    assert await top(search, "carmen") == [people["carmen"]]
    service = CustomerService(sessions)
    await service.update(people["carmen"], first_name="Carmela", last_name="Quiroga Sanz")
    assert await top(search, "carmela quiroga") == [people["carmen"]]
    assert await search.search("carmen martinez sanchez") == []
    await service.add_contact_point(people["carmen"], "email", "CQ@Example.org")
    assert await top(search, "cq@example.org") == [people["carmen"]]
    added = await service.create("Xiomara", "Quintanilla", phones=["+34 600 987 654"])
    assert await top(search, "xiomara quintanila") == [added.id]
    assert await top(search, "600 987 654") == [added.id]


async def test_common_words_driven_through_their_pairs(
    monkeypatch: pytest.MonkeyPatch, search: SearchService, people: dict[str, int]
) -> None:
    # On a large base two common words are read through their pair's posting list; make
    # every word "common" so this small base takes that path too.
    from core.search import plan

    monkeypatch.setattr(plan, "single_cost", lambda _matches: 1e12)
    namesakes = {people["maria_mad"], people["maria_sev"]}
    assert set(await top(search, "garcia lopez maria", 2)) == namesakes
    assert set(await top(search, "maria garcia", 2)) == namesakes
    assert await top(search, "marta gonzales fernandez") == [people["marta"]]
    assert await top(search, "lucia fernandez ortgea") == [people["lucia"]]
    assert await top(search, "pablo soto", 3) == [
        people["soto"],
        people["sotomayor"],
        people["sota"],
    ]
    hits = await search.search("marta fernandez")
    assert hits[0].customer_id == people["marta"]
    assert people["lucia"] in [hit.customer_id for hit in hits[1:]]


# --- the bulk rebuild -----------------------------------------------------------------------


async def _index_contents(engine: AsyncEngine) -> dict[str, Any]:
    """The index as plain values (word and name ids replaced by what they stand for)."""
    async with engine.connect() as connection:

        async def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(row) for row in await connection.execute(text(sql))]

        words = dict(await rows("SELECT id, word FROM search_word"))
        names = dict(await rows("SELECT id, key FROM search_name"))
        return {
            "words": sorted(await rows("SELECT word, df FROM search_word")),
            "names": sorted(await rows("SELECT key, sorted_key FROM search_name")),
            "ranks": [key for _, key in sorted(names.items())],
            "posting": sorted(
                (words[w], names[n], sig)
                for w, n, sig in await rows("SELECT word_id, name_id, sig FROM search_posting")
            ),
            "name_word": sorted(
                (names[n], words[w])
                for n, w in await rows("SELECT name_id, word_id FROM search_name_word")
            ),
            "name_customer": sorted(
                (names[n], c)
                for n, c in await rows("SELECT name_id, customer_id FROM search_name_customer")
            ),
            "contact": sorted(await rows("SELECT kind, key, customer_id FROM search_contact")),
        }


GENERATION = "SELECT coalesce(max(value), 0) FROM search_meta WHERE key = 'generation'"


async def _schema(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    sql = (
        "SELECT name, sql FROM sqlite_master WHERE tbl_name LIKE 'search%' ORDER BY name"
        if engine.dialect.name == "sqlite"
        else "SELECT indexname, indexdef FROM pg_indexes WHERE tablename LIKE 'search%' "
        "ORDER BY indexname"
    )
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql))]


async def test_rebuild_writes_every_row_a_reference_computation_expects(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], people: dict[str, int]
) -> None:
    from core.search.indexer import rebuild_index
    from core.search.keys import contact_rows, name_signature, name_terms
    from core.search.normalize import name_key

    service = CustomerService(sessions)
    nameless = await service.create("", "—", phones=["+34 600 000 999"])
    assert nameless.id is not None
    await service.create("María", "García López", city="Toledo")  # a third namesake, never active
    async with sessions() as session, session.begin():
        # Contact points no writer of this version stores, straight into the table: a phone
        # with other characters, digits that are not ASCII, emails with spaces, capitals and
        # accents, a local part alone. The bulk path keys them like the per-customer one.
        odd = [
            ("phone", "612-345 678"),
            ("phone", "６１２３４５６７８"),
            ("phone", "+"),
            ("email", " Spaced.Out@Example.com "),
            ("email", "ÑANDÚ@correo.es"),
            ("email", "justlocal"),
            ("email", "@nolocal.es"),
        ]
        for kind, normalized in odd:
            await session.execute(
                text(
                    "INSERT INTO contact_point (customer_id, kind, value, normalized, label, "
                    "is_primary) VALUES (:c, :k, :v, :v, '', false)"
                ),
                {"c": people["soto"], "k": kind, "v": normalized},
            )
    schema = await _schema(engine)
    async with engine.connect() as connection:
        customers = (
            await connection.execute(
                text("SELECT id, first_name, last_name, last_activity_at FROM customer")
            )
        ).all()
        points = (
            await connection.execute(
                text("SELECT customer_id, kind, normalized FROM contact_point")
            )
        ).all()
        generation = (await connection.execute(text(GENERATION))).scalar_one()

    indexed = await _index_contents(engine)  # by each writer's transaction
    assert await rebuild_index(engine) == len(customers)
    got = await _index_contents(engine)
    # Each posting carries its name's signature, however the index was written.
    assert got["posting"] == indexed["posting"]

    keys = {cid: name_key(first or "", last or "") for cid, first, last, _ in customers}
    latest: dict[str, str] = {}
    for cid, _, _, activity in customers:
        if keys[cid]:
            latest[keys[cid]] = max(
                latest.get(keys[cid], ""), "" if activity is None else str(activity)
            )
    assert nameless.id not in {cid for _, cid in got["name_customer"]}
    assert got["name_customer"] == sorted((key, cid) for cid, key in keys.items() if key)
    assert got["names"] == sorted((key, " ".join(sorted(key.split()))) for key in latest)
    assert got["posting"] == sorted(
        (term, key, name_signature(key)) for key in latest for term in name_terms(key)
    )
    assert got["name_word"] == sorted(
        (key, term) for key in latest for term in name_terms(key) if "+" not in term
    )
    df: dict[str, int] = {}
    for key in latest:
        for term in name_terms(key):
            df[term] = df.get(term, 0) + 1
    assert got["words"] == sorted(df.items())
    # Names rank by their latest customer's activity: the most recent first, never active last.
    assert [latest[key] for key in got["ranks"]] == sorted(latest.values(), reverse=True)
    assert got["contact"] == sorted(
        {row for cid, kind, normalized in points for row in contact_rows(cid, kind, normalized)}
    )
    assert ("p", "876543216", people["soto"]) in got["contact"]
    assert ("e", "spaced.out", people["soto"]) in got["contact"]
    assert ("e", "ñandú", people["soto"]) in got["contact"]
    # The same tables and indexes as before, and a new generation for other processes' caches.
    assert await _schema(engine) == schema
    async with engine.connect() as connection:
        assert (await connection.execute(text(GENERATION))).scalar_one() == generation + 1


async def test_rebuild_twice_gives_the_same_index_and_search_results(
    engine: AsyncEngine, search: SearchService, people: dict[str, int]
) -> None:
    from core.search.indexer import rebuild_index

    before = await _index_contents(engine)
    await rebuild_index(engine)
    once = await _index_contents(engine)
    await rebuild_index(engine)
    assert await _index_contents(engine) == once
    assert {k: v for k, v in once.items() if k != "ranks"} == {
        k: v for k, v in before.items() if k != "ranks"
    }
    # Another process's cached dictionary (this service's) notices the new generation.
    assert await top(search, "garcia lopez maria", 2) == [people["maria_sev"], people["maria_mad"]]
    assert await top(search, "nunez") == [people["jose"]]
    assert await top(search, "612 34 56 78") == [people["maria_mad"]]
    assert await top(search, "jose.nunez@correo.es") == [people["jose"]]


# PostgreSQL truncates the tables instead: searches there wait for the rebuild.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_during_a_rebuild_other_connections_read_the_old_index(
    monkeypatch: pytest.MonkeyPatch, engine: AsyncEngine, people: dict[str, int]
) -> None:
    import sqlite3

    from core.search.indexer import rebuild_index
    from core.search.rebuild import sqlite as sqlite_rebuild

    seen: list[int] = []
    commit = sqlite_rebuild._sqlite_finish

    def finish(connection: sqlite3.Connection, indexes: list[tuple[str, str, str]]) -> None:
        # Every row is written and the indexes are being built again: not committed yet.
        other = sqlite3.connect(str(engine.url.database))
        seen.extend(
            other.execute(sql).fetchone()[0]
            for sql in (
                "SELECT count(*) FROM search_name_customer",
                "SELECT count(*) FROM sqlite_master WHERE name = 'ix_search_contact_customer_id'",
            )
        )
        other.close()
        commit(connection, indexes)

    monkeypatch.setattr(sqlite_rebuild, "_sqlite_finish", finish)
    await rebuild_index(engine)
    assert seen == [len(people), 1]


async def test_a_locked_sqlite_database_is_waited_for_off_the_event_loop(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command-line search runs on its event loop, but never waits there for a lock; the
    console's (and the API's) never runs there: their loop must stay free to draw, to answer."""
    import sqlite3
    import threading

    from core.db import make_engine, make_sessions
    from core.search import service as service_module
    from core.search.reader import SqliteReader

    engine = make_engine(sqlite_url)
    sessions = make_sessions(engine)
    people = await seed(sessions)
    search = SearchService(sessions, inline=True)
    loop_thread = threading.current_thread()
    threads: list[threading.Thread] = []

    class LockedOnTheLoop(SqliteReader):
        def rows(self, sql: str, params: Any = None) -> Any:
            threads.append(threading.current_thread())
            if threading.current_thread() is loop_thread:  # as a locked database answers
                error = sqlite3.OperationalError("database is locked")
                error.sqlite_errorcode = sqlite3.SQLITE_BUSY
                raise error
            return super().rows(sql, params)

    monkeypatch.setattr(service_module, "SqliteReader", LockedOnTheLoop)
    try:
        assert await top(search, "jose nunez") == [people["jose"]]
        assert threads[0] is loop_thread and threads[-1] is not loop_thread
        threads.clear()
        console_search = SearchService(sessions)
        assert await top(console_search, "jose nunez") == [people["jose"]]
        assert threads and loop_thread not in threads
        await console_search.close()
    finally:
        await search.close()
        await engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the writer thread is SQLite's
async def test_a_failed_rebuild_leaves_the_old_index_and_no_lock(
    monkeypatch: pytest.MonkeyPatch,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    search: SearchService,
    people: dict[str, int],
) -> None:
    from core.search.indexer import rebuild_index
    from core.search.rebuild import sqlite as sqlite_rebuild

    before = await _index_contents(engine)

    def broken(*_args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(sqlite_rebuild, "_sqlite_indexes", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        await rebuild_index(engine)
    assert await _index_contents(engine) == before
    added = await CustomerService(sessions).create("Xiomara", "Quintanilla")  # not locked
    assert await top(search, "xiomara quintanilla") == [added.id]
