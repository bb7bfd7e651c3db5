"""The customer record through RecordService: roles refused in the service, duplicates before a
customer is saved, merges that keep everything and undo exactly (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.identity import Identity, IdentitySource
from core.models import AuditEvent, Interaction, LoyaltyAccount, Role
from core.privacy.access import AccessDenied
from core.privacy.service import PrivacyService
from core.search.service import SearchService
from core.services.agents import AgentService
from core.services.customers import CustomerNotFound, CustomerService
from core.services.record import MergeRefused, RecordService


def who(name: str) -> Identity:
    return Identity(name, IdentitySource.TYPED, "/dev/pts/3")


async def _record(sessions: async_sessionmaker[AsyncSession]) -> RecordService:
    agents = AgentService(sessions)
    await agents.add("maria", Role.AGENT)
    await agents.add("bea", Role.BRANCH)
    return RecordService(sessions, CustomerService(sessions), agents)


async def _interaction(sessions: async_sessionmaker[AsyncSession], cid: int, subject: str) -> None:
    async with sessions() as session, session.begin():
        session.add(
            Interaction(
                customer_id=cid,
                at=datetime(2026, 11, 3, 10, tzinfo=UTC),
                channel="phone",
                direction="inbound",
                subject=subject,
            )
        )


async def test_branch_staff_are_refused_by_the_service_not_only_the_screen(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    record = await _record(sessions)
    ana = await record.create(who("maria"), "Ana", "Ruiz", phones=["600 111 222"])
    assert ana.id is not None
    with pytest.raises(AccessDenied, match="bea \\(branch\\) may not create or edit"):
        await record.update(who("bea"), ana.id, city="Sevilla")
    with pytest.raises(AccessDenied):
        await record.create(who("bea"), "Luis", "Gil")
    with pytest.raises(AccessDenied):
        await record.set_contacts(who("bea"), ana.id, "phone", ["699 000 000"])
    with pytest.raises(AccessDenied):
        await record.merge(who("nobody"), ana.id, ana.id)  # unknown users are branch staff
    assert (await CustomerService(sessions).get(ana.id)).city == ""
    async with sessions() as session:
        actions = [e.action for e in (await session.execute(select(AuditEvent))).scalars()]
    assert actions == ["create"]


async def test_likely_duplicates_are_shown_before_the_customer_is_saved(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    record = await _record(sessions)
    born = date(1980, 5, 17)
    same_phone = await record.create(who("maria"), "Pepe", "Núñez", phones=["+34 612 345 678"])
    namesake = await record.create(who("maria"), "Jose", "Nunez", city="Jaén", birth_date=born)
    await record.create(who("maria"), "Marta", "Gil", birth_date=born)
    found = await record.likely_duplicates(
        who("maria"), "José", "Núñez", born, phones=["612 345 678"], city="Madrid"
    )
    by_id = {d.customer_id: d for d in found}
    assert set(by_id) == {same_phone.id, namesake.id}
    assert by_id[namesake.id or 0].shared == ("name and birth date",)
    assert "city Madrid / Jaén" in by_id[namesake.id or 0].differs


async def test_a_merge_keeps_everything_and_its_undo_puts_everything_back(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    record = await _record(sessions)
    maria = who("maria")
    keep = await record.create(
        maria, "Ana", "Ruiz", phones=["+34 600 111 222"], emails=["ana@correo.es"],
        marketing_consent=True,
    )  # fmt: skip
    dup = await record.create(
        maria, "Ana", "Ruiz López", phones=["600 111 222", "+34 611 999 888"],
        emails=["ANA@correo.es"], city="Sevilla", birth_date=date(1985, 3, 9), do_not_call=True,
    )  # fmt: skip
    assert keep.id is not None and dup.id is not None
    await _interaction(sessions, keep.id, "kept's call")
    await _interaction(sessions, dup.id, "duplicate's visit")
    async with sessions() as session, session.begin():
        session.add(LoyaltyAccount(customer_id=dup.id, tier="Gold", points=120))
    customers = CustomerService(sessions)

    merge = await record.merge(maria, keep.id, dup.id)

    with pytest.raises(CustomerNotFound):
        await customers.get(dup.id)
    kept = await customers.get(keep.id)
    assert (kept.city, kept.birth_date, kept.do_not_call, kept.marketing_consent) == (
        "Sevilla", date(1985, 3, 9), True, False,
    )  # fmt: skip
    exported = await PrivacyService(sessions).export("sara", keep.id)
    tables = exported["tables"]
    points = sorted((p["value"], p["is_primary"]) for p in tables["contact_point"])
    # The same email is kept once (the kept one's, still the main one); a number written
    # another way is kept as written.
    assert points == [
        ("+34 600 111 222", True), ("+34 611 999 888", False), ("600 111 222", False),
        ("ana@correo.es", True),
    ]  # fmt: skip
    assert sorted(i["subject"] for i in tables["interaction"]) == [
        "duplicate's visit", "kept's call",
    ]  # fmt: skip
    assert [a["tier"] for a in tables["loyalty_account"]] == ["Gold"]
    search = SearchService(sessions, inline=True)
    assert [h.customer_id for h in await search.search("611 999 888")] == [keep.id]

    await record.undo_merge(maria, merge.id or 0)

    back = await customers.get(dup.id)
    assert (back.external_id, back.city, back.do_not_call) == (dup.external_id, "Sevilla", True)
    kept = await customers.get(keep.id)
    assert (kept.city, kept.birth_date, kept.marketing_consent) == ("", None, True)
    again = (await PrivacyService(sessions).export("sara", dup.id))["tables"]
    assert sorted(p["value"] for p in again["contact_point"]) == [
        "+34 611 999 888", "600 111 222", "ANA@correo.es",
    ]  # fmt: skip
    assert [i["subject"] for i in again["interaction"]] == ["duplicate's visit"]
    assert [a["points"] for a in again["loyalty_account"]] == [120]
    assert [h.customer_id for h in await search.search("611 999 888")] == [dup.id]
    await search.close()
    with pytest.raises(MergeRefused, match="undone already"):
        await record.undo_merge(maria, merge.id or 0)
    async with sessions() as session:
        trail = [
            (e.action, e.customer_id)
            for e in (await session.execute(select(AuditEvent))).scalars()
            if e.action in ("merge", "unmerge")
        ]
    assert trail == [("merge", keep.id), ("unmerge", keep.id)]
    assert [(m.merged_id, m.undone_by) for m in await record.merges(maria, keep.id)] == [
        (dup.id, "maria")
    ]


async def test_a_customer_is_not_merged_into_themselves(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    record = await _record(sessions)
    ana = await record.create(who("maria"), "Ana", "Ruiz")
    with pytest.raises(MergeRefused):
        await record.merge(who("maria"), ana.id or 0, ana.id or 0)


async def test_branch_staff_take_no_calls(sessions: async_sessionmaker[AsyncSession]) -> None:
    from core.calls.events import CallEvents
    from core.calls.lifecycle import CallService

    bea = await AgentService(sessions).ensure("bea")  # unknown: branch
    assert bea.id is not None
    calls = CallService(sessions, CallEvents(sessions))
    with pytest.raises(AccessDenied, match="take and log calls"):
        await calls.start(bea.id, None, caller_number="600 000 000")
    with pytest.raises(AccessDenied):
        await calls.sign_in(bea.id)


def test_frontline_customers_lists_merges_and_undoes_them(db_url: str) -> None:
    import asyncio

    from click.testing import CliRunner

    from console.cli import frontline
    from core.db import make_engine, make_sessions

    async def setup() -> tuple[str, str, int]:
        engine = make_engine(db_url)
        record = await _record(make_sessions(engine))
        keep = await record.create(who("maria"), "Ana", "Ruiz", emails=["ana@correo.es"])
        dup = await record.create(who("maria"), "Ana", "Ruiz", emails=["ana@correo.es"])
        await engine.dispose()
        return keep.external_id, dup.external_id, dup.id or 0

    def run(agent: str, *args: str) -> tuple[int, str]:
        env = {
            "FRONTLINE_DATABASE_URL": db_url,
            "FRONTLINE_ENV_FILE": "/nonexistent",
            "FRONTLINE_TRUST_AGENT_ENV": "1",
            "FRONTLINE_AGENT": agent,
        }
        result = CliRunner().invoke(frontline, ["customers", *args], env=env)
        return result.exit_code, result.output

    keep, dup, dup_id = asyncio.run(setup())
    code, out = run("maria", "duplicates", keep, "--json")
    assert code == 0 and json.loads(out)[0]["customer_number"] == dup
    assert run("bea", "merge", keep, dup)[0] == 1  # branch staff: refused
    code, out = run("maria", "merge", keep, dup)
    assert code == 0 and f"merged {dup}" in out
    assert "no customer numbered" in run("maria", "duplicates", dup)[1]
    merge_id = json.loads(run("maria", "merges", keep, "--json")[1])[0]["merge"]
    code, out = run("maria", "unmerge", str(merge_id))
    assert code == 0 and f"{dup} is back" in out
    assert json.loads(run("maria", "duplicates", dup, "--json")[1])[0]["customer_id"] != dup_id
