"""Likely duplicates at import: the import's summary counts them and says how to list them;
`frontline customers duplicates [--since]` lists every pair with what tells them apart."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from console.cli import frontline
from core.db import make_engine, make_sessions
from core.models import AuditEvent, Role
from core.services.agents import AgentService
from core.services.customers import CustomerService
from core.services.duplicate_scan import duplicate_pairs

T = TypeVar("T")
HEADER = "external_id,first_name,last_name,email,phone,city,birth_date\n"


def run(url: str, *args: str) -> Result:
    env = {
        "FRONTLINE_DATABASE_URL": url,
        "FRONTLINE_ENV_FILE": "/nonexistent",
        "FRONTLINE_TRUST_AGENT_ENV": "1",
        "FRONTLINE_AGENT": "root-of-test",
        "FRONTLINE_ADMINS": "",
    }
    return CliRunner().invoke(frontline, list(args), env=env)


async def _stored(sessions: async_sessionmaker[AsyncSession]) -> None:
    customers = CustomerService(sessions)
    await customers.create(
        "Ana María", "Martínez Ruiz", phones=["+34 635 88 30 15"], emails=["amr@correo.es"],
        city="Barcelona", birth_date=date(1963, 7, 16),
    )  # fmt: skip
    await customers.create("João", "Araújo", emails=["joao.a@gmail.com"], city="Rio")


def _on(url: str, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run `work` on the database at `url` (the CLI runs its own event loop, so tests that
    call it are not async)."""

    async def go() -> T:
        engine = make_engine(url)
        try:
            return await work(make_sessions(engine))
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_an_import_counts_its_likely_duplicates_and_says_how_to_list_them(
    db_url: str, tmp_path: Path
) -> None:
    async def setup(sessions: async_sessionmaker[AsyncSession]) -> None:
        await _stored(sessions)
        await AgentService(sessions).add("root-of-test", Role.AGENT)

    _on(db_url, setup)
    clean = tmp_path / "clean.csv"
    clean.write_text(HEADER + "N9,Pedro,Único,pu@x.es,+34 600 000 111,Lugo,1990-01-01\n")
    quiet = run(db_url, "import", "customers", str(clean))
    assert quiet.exit_code == 0 and "likely duplicates" not in quiet.output

    file = tmp_path / "new.csv"
    file.write_text(
        HEADER
        + "N1,Ana Maria,Martinez Ruiz,,,Sabadell,1963-07-16\n"  # close name, same birth date
        + "N2,Joao,Araujo Alves,JOAO.A@gmail.com,,Porto,\n"  # the same email
        + "N3,Luis,Tel,,0034 635 88 30 15,Lugo,\n"  # the same phone, written otherwise
        + "N4,Ana Maria,Martinez Ruiz,,,Sabadell,1971-02-03\n"  # a namesake born another day
    )
    summary = run(db_url, "import", "customers", str(file))
    assert summary.exit_code == 0, summary.output
    said = summary.output.splitlines()[-1]
    assert said.startswith("likely duplicates: 3 pairs with an imported customer")
    listed = re.search(r"list them: (frontline customers duplicates --since \S+)$", said)
    assert listed is not None
    again = run(db_url, "import", "customers", str(file), "--json")  # the same rows again
    assert json.loads(again.stdout) == {"imported": 4, "rejected": 0, "rejects_file": None}
    assert "likely duplicates: 3 pairs" in again.stderr  # the JSON keeps its form

    pairs = run(db_url, *listed.group(1).split()[1:], "--json")
    assert pairs.exit_code == 0, pairs.output
    found = {
        (p["customer_number"], p["duplicate"]["customer_number"]): p["duplicate"]
        for p in json.loads(pairs.output)
    }
    assert set(found) == {("C00000001", "N1"), ("C00000002", "N2"), ("C00000001", "N3")}
    assert found[("C00000001", "N1")]["shared"] == ["name and birth date"]
    assert "city Barcelona / Sabadell" in found[("C00000001", "N1")]["differs"]
    assert found[("C00000002", "N2")]["shared"] == ["email joao.a@gmail.com"]
    assert found[("C00000001", "N3")]["shared"] == ["phone …635883015"]
    text = run(db_url, "customers", "duplicates").output
    assert "C00000001  Ana María Martínez Ruiz  ~  N1  Ana Maria Martinez Ruiz" in text
    assert text.splitlines()[-1].startswith("3 likely duplicate pairs")

    # Listing them is a search: each customer listed is in the audit trail, by who listed.
    async def trail(sessions: async_sessionmaker[AsyncSession]) -> set[tuple[str, int | None]]:
        async with sessions() as session:
            found = await session.execute(
                select(col(AuditEvent.actor), col(AuditEvent.customer_id)).where(
                    col(AuditEvent.detail) == "likely duplicates"
                )
            )
            return {(actor, customer) for actor, customer in found}

    rows = _on(db_url, trail)
    assert len(rows) == 5 and {actor for actor, _ in rows} == {"root-of-test"}
    assert run(db_url, "--agent", "x", "customers", "duplicates").exit_code != 0  # branch


async def test_pairs_since_a_moment_only_those_with_a_customer_changed_since(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _stored(sessions)
    customers = CustomerService(sessions)
    await customers.create("Old", "Pair", phones=["+34 611 222 333"])
    await customers.create("Other", "Person", phones=["611 222 333"])
    moment = datetime.now(UTC)
    await customers.create("Joao", "Araujo", emails=["joao.a@gmail.com"])
    async with sessions() as session:
        everything = await duplicate_pairs(session)
        recent = await duplicate_pairs(session, moment)
    assert sorted(p.duplicate.name for p in everything) == ["Joao Araujo", "Other Person"]
    assert [(p.name, p.duplicate.name, p.duplicate.shared) for p in recent] == [
        ("João Araújo", "Joao Araujo", ("email joao.a@gmail.com",))
    ]


def test_a_very_large_import_says_how_to_list_its_duplicates_instead_of_counting_them(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import console.commands.importer as importer

    async def setup(sessions: async_sessionmaker[AsyncSession]) -> None:
        await _stored(sessions)
        await AgentService(sessions).add("root-of-test", Role.AGENT)

    _on(db_url, setup)
    monkeypatch.setattr(importer, "DUPLICATE_COUNT_LIMIT", 1)  # a 1,000,000-row load, in small
    file = tmp_path / "large.csv"
    file.write_text(
        HEADER
        + "N1,Ana Maria,Martinez Ruiz,,,Sabadell,1963-07-16\n"
        + "N2,Joao,Araujo Alves,JOAO.A@gmail.com,,Porto,\n"
    )
    summary = run(db_url, "import", "customers", str(file))
    assert summary.exit_code == 0, summary.output
    said = summary.output.splitlines()[-1]
    assert said.startswith("likely duplicates not counted for an import this large (2 customers")
    assert re.search(r"list them: frontline customers duplicates --since \S+$", said)
