"""`frontline search` (--json, --batch, --reindex) and `frontline lookup`, and an index kept
current by another process; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from datetime import timedelta

from click.testing import CliRunner, Result
from sqlalchemy import text

from console.cli import frontline
from core.db import make_engine, make_sessions
from core.identity import os_login
from core.models import Interaction
from core.search.service import SearchService
from tests.core.test_search import NOW, seed


async def _seed(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        people = await seed(make_sessions(engine))
        async with make_sessions(engine)() as session, session.begin():
            for day in range(7):
                session.add(
                    Interaction(
                        customer_id=people["jose"],
                        at=NOW - timedelta(days=day),
                        channel="phone",
                        direction="inbound",
                        subject=f"Consulta {day}",
                        outcome="resolved",
                    )
                )
        return people
    finally:
        await engine.dispose()


async def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(sql))]
    finally:
        await engine.dispose()


def run(url: str, *args: str, stdin: str | None = None) -> Result:
    env = {
        "FRONTLINE_DATABASE_URL": url,
        "USER": "tester",  # not who the user is: the OS login is (core/identity.py)
        "FRONTLINE_TRUST_AGENT_ENV": "1",  # so that `--agent branch7` is taken at its word
        "FRONTLINE_ENV_FILE": "/nonexistent",
    }
    return CliRunner().invoke(frontline, list(args), input=stdin, env=env)


def test_search_json_and_plain(db_url: str) -> None:
    people = asyncio.run(_seed(db_url))
    result = run(db_url, "search", "nunez", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["q"] == "nunez"
    assert isinstance(payload["ms"], float)
    first = payload["results"][0]
    assert first["external_id"] == f"C{people['jose']:08d}"
    assert first["name"] == "José Núñez Pérez"
    assert isinstance(first["score"], float)
    plain = run(db_url, "search", "garcia lopez", "--limit", "1")
    assert plain.exit_code == 0
    assert len(plain.output.strip().splitlines()) == 1
    assert "García López" in plain.output
    assert run(db_url, "search", "qqqqqqqq").exit_code == 1


def test_search_batch_answers_every_line_in_order(db_url: str) -> None:
    people = asyncio.run(_seed(db_url))
    lines = [
        json.dumps({"q": "nunez"}),
        json.dumps({"q": "612-345-678"}),
        "not json",
        json.dumps({"q": "qqqqqqqq"}),
        json.dumps({"q": "pablo so", "limit": 2}),
    ]
    result = run(db_url, "search", "--batch", stdin="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.output.splitlines()]
    assert [a["q"] for a in answers] == ["nunez", "612-345-678", None, "qqqqqqqq", "pablo so"]
    assert answers[0]["results"][0]["customer_id"] == people["jose"]
    assert answers[1]["results"][0]["customer_id"] == people["maria_mad"]
    assert "error" in answers[2]
    assert answers[3]["results"] == []
    assert len(answers[4]["results"]) == 2
    assert all(isinstance(a["ms"], float) for a in answers if a["q"])


def test_reindex_rebuilds_a_lost_index(db_url: str) -> None:
    people = asyncio.run(_seed(db_url))

    async def wipe() -> None:  # as if the index had been lost
        engine = make_engine(db_url)
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM search_name_customer"))
            await connection.execute(text("DELETE FROM search_contact"))
        await engine.dispose()

    asyncio.run(wipe())
    assert run(db_url, "search", "nunez").exit_code == 1
    result = run(db_url, "search", "--reindex")
    assert result.exit_code == 0, result.output
    assert f"indexed {len(people)} customers" in result.output
    found = json.loads(run(db_url, "search", "nunez", "--json").output)
    assert found["results"][0]["customer_id"] == people["jose"]


def test_lookup_prints_a_masked_card_and_audits_it(db_url: str) -> None:
    people = asyncio.run(_seed(db_url))
    result = run(db_url, "--agent", "branch7", "lookup", "jose nunez")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "José Núñez Pérez" in out and f"C{people['jose']:08d}" in out
    assert "655" not in out and "0034 6•• •• •• 22" in out  # masked
    assert "j•••@correo.es" in out
    assert "\x1b" not in out  # a pipe gets plain text
    shown = [line for line in out.splitlines() if "Consulta" in line]
    assert [line.split("Consulta ")[1].split()[0] for line in shown] == ["0", "1", "2", "3", "4"]
    audit = asyncio.run(_rows(db_url, "SELECT actor, action, customer_id, detail FROM audit_event"))
    assert audit == [("branch7", "lookup", people["jose"], "query='jose nunez'; shown=card")]


def test_lookup_lists_namesakes_and_fails_when_nothing_matches(db_url: str) -> None:
    people = asyncio.run(_seed(db_url))
    result = run(db_url, "lookup", "maria garcia lopez")
    assert result.exit_code == 0
    assert "2 customers match" in result.output
    assert "Madrid" in result.output and "Sevilla" in result.output
    missing = run(db_url, "lookup", "qqqqqqqq")
    assert missing.exit_code == 1
    assert "no customer matches" in missing.output
    audit = asyncio.run(
        _rows(db_url, "SELECT actor, customer_id, detail FROM audit_event ORDER BY id")
    )
    me = os_login()  # a short list is audited with which customers it showed
    assert {(actor, customer) for actor, customer, _ in audit} == {
        (me, people["maria_mad"]),
        (me, people["maria_sev"]),
        (me, None),
    }
    assert sorted(str(detail) for _, _, detail in audit) == [
        "query='maria garcia lopez'; rank=1/2",
        "query='maria garcia lopez'; rank=2/2",
        "query='qqqqqqqq'; listed=0",
    ]
    payload = json.loads(run(db_url, "lookup", "c1", "--json").output)
    assert payload["card"]["external_id"] == "C00000001"
    assert payload["card"]["phone"].endswith("78") and "612" not in payload["card"]["phone"]


def test_lookup_lists_a_loose_match_instead_of_showing_its_card(db_url: str) -> None:
    people = asyncio.run(_seed(db_url))
    loose = run(db_url, "lookup", "evil name zubizarreta")  # one typed word of three matches
    assert loose.exit_code == 0, loose.output
    assert "1 customer matches" in loose.output and "Zubizarreta" in loose.output
    assert "Latest contacts" not in loose.output and "No contacts" not in loose.output
    typo = run(db_url, "lookup", "inigo zubizaretta")  # every word, one with a typo: sure
    assert "Latest contacts" in typo.output or "No contacts" in typo.output
    audit = asyncio.run(_rows(db_url, "SELECT customer_id, detail FROM audit_event ORDER BY id"))
    assert audit == [  # the short list is audited with the customer it listed
        (people["inigo"], "query='evil name zubizarreta'; rank=1/1"),
        (people["inigo"], "query='inigo zubizaretta'; shown=card"),
    ]


async def _renumber(url: str, customer_id: int, number: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE customer SET external_id = :n WHERE id = :id"),
                {"n": number, "id": customer_id},
            )
    finally:
        await engine.dispose()


def test_lookup_finds_a_customer_number_of_any_shape(db_url: str) -> None:
    people = asyncio.run(_seed(db_url))
    asyncio.run(_renumber(db_url, people["inigo"], "ES-2024-77"))
    for typed in ("ES-2024-77", "es-2024-77"):
        result = run(db_url, "lookup", typed)
        assert result.exit_code == 0, result.output
        assert "ES-2024-77" in result.output and "Zubizarreta" in result.output
        assert "Latest contacts" in result.output or "No contacts" in result.output  # the card


def test_lookup_shows_untrusted_names_literally(db_url: str) -> None:
    people = asyncio.run(_seed(db_url))
    result = run(db_url, "lookup", f"C{people['markup']:08d}")
    assert result.exit_code == 0
    assert "[red]x[/red]" in result.output  # markup stays literal
    assert "\x1b" not in result.output  # the escape is shown, not sent to the terminal
    assert "\u241b[2J" in result.output


async def test_index_updated_by_another_process(db_url: str) -> None:
    people = await _seed(db_url)
    engine = make_engine(db_url)
    search = SearchService(make_sessions(engine))
    assert await search.search("xiomara quintanilla") == []  # the dictionary is now cached
    script = textwrap.dedent(
        f"""
        import asyncio
        from core.db import make_engine, make_sessions
        from core.services.customers import CustomerService

        async def main():
            engine = make_engine({db_url!r})
            service = CustomerService(make_sessions(engine))
            await service.create("Xiomara", "Quintanilla Ybarra", phones=["+34 688 777 666"])
            await service.update({people["lucia"]}, last_name="Fernández Zubiaurre")
            await engine.dispose()

        asyncio.run(main())
        """
    )
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", script], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    hits = await search.search("xiomara quintanila")  # a typo in a word new to this process
    assert [hit.name for hit in hits][:1] == ["Xiomara Quintanilla Ybarra"]
    assert [hit.name for hit in await search.search("688 777 666")] == [
        "Xiomara Quintanilla Ybarra"
    ]
    assert [hit.customer_id for hit in await search.search("lucia zubiaur")][:1] == [
        people["lucia"]
    ]
    await search.close()
    await engine.dispose()


async def test_a_running_search_survives_a_rebuild(db_url: str) -> None:
    """The search's own connection (prepared statements, cached dictionary) after a rebuild."""
    from core.search.indexer import rebuild_index

    people = await _seed(db_url)
    engine = make_engine(db_url)
    search = SearchService(make_sessions(engine))
    try:
        for _ in range(2):  # before and after the rebuild
            assert [h.customer_id for h in await search.search("jose nunez")][:1] == [
                people["jose"]
            ]
            assert [h.customer_id for h in await search.search("655 44 33 22")] == [people["jose"]]
            assert [h.customer_id for h in await search.search("mgarcia")][:1] == [
                people["maria_mad"]
            ]
            await rebuild_index(engine)
    finally:
        await search.close()
        await engine.dispose()
