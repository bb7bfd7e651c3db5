"""Demo data: deterministic, realistic, and never written over real customers."""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from console.cli import frontline
from core.db import make_engine, make_sessions
from core.demo.build import DatabaseNotEmpty, build_demo, count_customers
from core.demo.catalogue import tier_for_points
from core.demo.generator import DemoPlan
from core.models import (
    Agent,
    ContactPoint,
    Customer,
    Holding,
    Interaction,
    LoyaltyAccount,
    NpsResponse,
    Product,
    Transaction,
)
from core.reference.catalogue import CATALOGUE

AS_OF = date(2026, 6, 30)
PLAN = DemoPlan(customers=2000, seed=7, as_of=AS_OF)


async def _fingerprint(url: str) -> tuple[object, ...]:
    # A new engine each time: a SQLite demo replaces the file, and pooled connections
    # would still read the old one.
    engine = make_engine(url)
    async with make_sessions(engine)() as session:
        people = (
            await session.execute(
                select(Customer.external_id, Customer.first_name, Customer.last_name)
                .order_by(col(Customer.id))
                .limit(50)
            )
        ).all()
        phones = (
            await session.execute(
                select(ContactPoint.value).order_by(col(ContactPoint.id)).limit(50)
            )
        ).all()
        spend = (await session.execute(select(func.sum(Transaction.amount)))).scalar_one()
        history = (await session.execute(select(func.count(col(Interaction.id))))).scalar_one()
    await engine.dispose()
    return tuple(people), tuple(phones), spend, history


async def test_same_seed_same_demo(db_url: str) -> None:
    plan = DemoPlan(customers=400, seed=7, as_of=AS_OF)
    await build_demo(db_url, plan)
    first = await _fingerprint(db_url)
    await build_demo(db_url, plan, replace=True)
    assert await _fingerprint(db_url) == first
    await build_demo(db_url, DemoPlan(customers=400, seed=8, as_of=AS_OF), replace=True)
    assert await _fingerprint(db_url) != first


async def test_demo_looks_like_a_real_customer_base(
    db_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    result = await build_demo(db_url, PLAN)
    assert result.rows["customer"] == 2000
    async with sessions() as session:
        customers = list((await session.execute(select(Customer))).scalars())
        contacts = list((await session.execute(select(ContactPoint))).scalars())
        interactions = list((await session.execute(select(Interaction))).scalars())
        purchases = list((await session.execute(select(Transaction))).scalars())
        loyalty = list((await session.execute(select(LoyaltyAccount))).scalars())
        staff = list((await session.execute(select(Agent))).scalars())
        products = list((await session.execute(select(Product))).scalars())
        holdings = list((await session.execute(select(Holding))).scalars())
        nps = list((await session.execute(select(NpsResponse))).scalars())

    # Names: mostly Spanish with accents and two surnames, and many namesakes.
    full_names = Counter(c.full_name for c in customers)
    assert max(full_names.values()) >= 2
    assert sum(1 for c in customers if c.first_name == "María" and "García" in c.last_name) >= 3
    assert sum(1 for c in customers if " " in c.last_name) > len(customers) * 0.7
    assert any(re.search("[áéíóúñ]", c.last_name) for c in customers)
    assert {"ES", "PT", "GB"} <= {c.country for c in customers}
    assert all(re.fullmatch(r"C\d{8}", c.external_id) for c in customers)

    # Consent and do-not-call vary.
    assert 0 < sum(not c.marketing_consent for c in customers) < len(customers)
    assert 0 < sum(c.do_not_call for c in customers) < len(customers) * 0.2

    # Several phones and emails, written in varied formats, normalised to digits / lower case.
    per_customer = Counter(cp.customer_id for cp in contacts)
    assert max(per_customer.values()) >= 3
    phones = [cp for cp in contacts if cp.kind == "phone"]
    written = {cp.value for cp in phones}
    assert any(v.startswith("+34 ") for v in written)
    assert any(v.startswith("0034") for v in written)
    assert any(re.fullmatch(r"\d{3}-\d{3}-\d{3}", v) for v in written)
    assert any(v.startswith("(") for v in written)
    assert all(cp.normalized.isdigit() for cp in phones)
    spanish = [cp for cp in phones if cp.value.replace(" ", "").startswith(("+34", "0034"))]
    assert all(cp.normalized.startswith("34") and len(cp.normalized) == 11 for cp in spanish)
    emails = [cp for cp in contacts if cp.kind == "email"]
    assert emails and all(cp.normalized == cp.value.lower() and "@" in cp.value for cp in emails)

    # Every channel, both directions, believable subjects and agents; a supervisor exists.
    assert {i.channel for i in interactions} == {
        "phone", "email", "web", "store", "sales_visit", "chat",
    }  # fmt: skip
    assert {i.direction for i in interactions} == {"inbound", "outbound"}
    assert all(i.subject for i in interactions)
    assert {i.agent for i in interactions if i.channel == "phone"} & {a.user_name for a in staff}
    assert [a.role for a in staff].count("supervisor") == 1
    assert len([a for a in staff if a.role == "agent"]) >= 5

    # Products in several lines, and the agreed catalogue.
    assert {p.code for p in products} == {p.code for p in CATALOGUE}
    held_lines = Counter(len({products[h.product_id - 1].line}) for h in holdings)
    assert held_lines and len({p.line for p in products}) == 6

    # Three years of purchases; customers who stopped buying and customers who still buy.
    last_purchase: dict[int, date] = {}
    spend: dict[int, float] = {}
    for p in purchases:
        day = p.at.date()
        assert AS_OF - timedelta(days=3 * 366) <= day < AS_OF
        last_purchase[p.customer_id] = max(last_purchase.get(p.customer_id, day), day)
        spend[p.customer_id] = spend.get(p.customer_id, 0.0) + float(p.amount)
    recent = sum(1 for d in last_purchase.values() if (AS_OF - d).days < 60)
    lapsed = sum(1 for d in last_purchase.values() if (AS_OF - d).days > 365)
    assert recent > 100 and lapsed > 100
    counts = Counter(p.customer_id for p in purchases)
    assert max(counts.values()) > 5 * (sum(counts.values()) / len(counts))

    # Loyalty points are the spend, and the tier follows from the points.
    tiers = Counter(a.tier for a in loyalty)
    assert tiers["Bronze"] > tiers["Silver"] > tiers["Gold"] > 0
    for account in loyalty:
        assert account.points == math.floor(spend.get(account.customer_id, 0.0) + 1e-6)
        assert account.tier == tier_for_points(account.points)

    # NPS answers across the whole scale; last activity is the latest purchase or contact.
    assert {r.score for r in nps} >= {0, 5, 9, 10}
    latest = dict(last_purchase)
    for i in interactions:
        latest[i.customer_id] = max(latest.get(i.customer_id, i.at.date()), i.at.date())
    for c in customers[:300]:
        if c.id in latest:
            assert c.last_activity_at is not None
            assert c.last_activity_at.date() == latest[c.id]
            assert c.last_activity_at.tzinfo is not None


async def test_demo_never_overwrites_customers_unless_asked(db_url: str) -> None:
    small = DemoPlan(customers=50, seed=1, as_of=AS_OF)
    await build_demo(db_url, small)
    with pytest.raises(DatabaseNotEmpty):
        await build_demo(db_url, DemoPlan(customers=80, seed=1, as_of=AS_OF))
    assert await count_customers(db_url) == 50
    await build_demo(db_url, DemoPlan(customers=80, seed=1, as_of=AS_OF), replace=True)
    engine = make_engine(db_url)
    async with make_sessions(engine)() as session:
        assert (await session.execute(select(func.count(col(Customer.id))))).scalar_one() == 80
        # New rows after a demo get fresh ids (sequences moved past the demo's own ids).
        session.add(Customer(external_id="C99999999", first_name="Ana", last_name="Nueva"))
        await session.commit()
    await engine.dispose()


def test_demo_command(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"FRONTLINE_DATA_DIR": str(tmp_path), "FRONTLINE_DATABASE_URL": ""}
    built = runner.invoke(frontline, ["demo", "--customers", "120", "--no-open"], env=env)
    assert built.exit_code == 0, built.output
    assert (tmp_path / "frontline.db").exists()
    assert not list(tmp_path.glob("*.building*"))

    refused = runner.invoke(frontline, ["demo", "--customers", "50", "--no-open"], env=env)
    assert refused.exit_code == 1
    assert "already holds 120 customers" in refused.output

    kept = runner.invoke(frontline, ["demo", "--if-empty", "--no-open"], env=env)
    assert kept.exit_code == 0
    assert "120 customers already" in kept.output

    replaced = runner.invoke(
        frontline, ["demo", "--customers", "60", "--replace", "--no-open"], env=env
    )
    assert replaced.exit_code == 0, replaced.output
    assert "60 customers" in replaced.output


def test_the_demo_makes_its_builder_the_supervisor_of_the_database_it_builds(
    tmp_path: Path,
) -> None:
    import asyncio

    from core.identity import os_login
    from core.models import Role
    from core.services.agents import AgentService

    env = {
        "FRONTLINE_DATA_DIR": str(tmp_path),
        "FRONTLINE_DATABASE_URL": "",
        "FRONTLINE_ENV_FILE": "/nonexistent",
        "FRONTLINE_TRUST_AGENT_ENV": "0",
        "USER": "somebody-else",  # not who the OS says this is
    }
    built = CliRunner().invoke(frontline, ["demo", "--customers", "30", "--no-open"], env=env)
    assert built.exit_code == 0, built.output
    assert f"{os_login()} is a supervisor in this demo database" in built.output

    async def role() -> Role:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'frontline.db'}")
        try:
            return await AgentService(make_sessions(engine)).role_of(os_login())
        finally:
            await engine.dispose()

    assert asyncio.run(role()) == Role.SUPERVISOR


async def test_the_demo_history_is_in_one_language_with_reason_codes(db_url: str) -> None:
    from core.demo import vocabulary

    spanish = {s for options in vocabulary.SUBJECTS.values() for s, _e in options}
    english = {e for options in vocabulary.SUBJECTS.values() for _s, e in options}
    for language, words in (("es", spanish), ("en", english)):
        plan = DemoPlan(customers=150, seed=3, as_of=AS_OF, language=language)
        await build_demo(db_url, plan, replace=True)
        engine = make_engine(db_url)
        async with make_sessions(engine)() as session:
            rows = (await session.execute(select(Interaction.subject, Interaction.reason))).all()
        await engine.dispose()
        assert rows and {subject for subject, _reason in rows} <= words
        complaints = {subject for subject, reason in rows if reason == "complaint"}
        assert complaints, "complaint subjects carry the complaint code"
        if language == "es":
            assert all(s.startswith("Reclamación") for s in complaints)
