"""Deterministic customers for console tests and snapshots (fixed names, dates and history)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Agent, ContactPoint, Customer, Holding, Interaction, LoyaltyAccount, Product
from core.search.indexer import index_customers

NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
"""The frozen 'now' of console tests."""

PRODUCTS = [
    ("MOBILE_PLUS", "Mobile Plus", "mobile", "25.00"),
    ("FIBRE_600", "Fibre 600", "fibre", "40.00"),
    ("TV_SPORTS", "TV Sports", "tv", "20.00"),
    ("INSURE_HOME", "Home insurance", "insurance", "15.00"),
]

PEOPLE = [
    # first, last, city, birth year, phone, tier, points, n interactions
    ("Ana", "García López", "Madrid", 1984, "+34 612 345 678", "Gold", 7200, 260),
    ("Ana", "García López", "Sevilla", 1991, "+34 699 111 222", "Silver", 2500, 3),
    ("Ana", "García Ruiz", "Madrid", 1975, "+34 622 333 444", "", 0, 0),
    ("[red]Bob[/red]", "Tables \x1b[2J", "Bilbao", 1980, "+34 633 000 111", "Bronze", 100, 1),
    ("Luis", "Pérez", "Valencia", 1990, "+34 655 000 001", "Platinum", 16000, 2),
    ("Marta", "Pérez", "Valencia", 1992, "+34 655 000 001", "Silver", 2100, 0),
]
CHANNELS = ["phone", "email", "web", "store", "sales_visit", "chat"]
OUTCOMES = ["resolved", "follow-up", "sale", "escalated", "no action"]


async def seed(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    """Six customers (namesakes, a markup-laden name, a shared phone); their ids in order."""
    ids: list[int] = []
    async with sessions() as session, session.begin():
        products = [
            Product(code=c, name=n, line=line, price=Decimal(p)) for c, n, line, p in PRODUCTS
        ]
        session.add_all(products)
        await session.flush()
        for n, (first, last, city, born, phone, tier, points, count) in enumerate(PEOPLE, 1):
            customer = Customer(
                external_id=f"C{n:08d}",
                first_name=first,
                last_name=last,
                city=city,
                country="ES",
                birth_date=date(born, 3, n),
                customer_since=date(2015 + n, 6, 1),
                marketing_consent=n % 2 == 1,
                do_not_call=n == 2,
                created_at=NOW,
                updated_at=NOW,
            )
            session.add(customer)
            await session.flush()
            assert customer.id is not None
            ids.append(customer.id)
            digits = "".join(ch for ch in phone if ch.isdigit())
            session.add(
                ContactPoint(
                    customer_id=customer.id,
                    kind="phone",
                    value=phone,
                    normalized=digits,
                    label="mobile",
                    is_primary=True,
                )
            )
            session.add(
                ContactPoint(
                    customer_id=customer.id,
                    kind="email",
                    value=f"{first.lower()}.{n}@example.com",
                    normalized=f"{first.lower()}.{n}@example.com",
                    label="personal",
                    is_primary=True,
                )
            )
            if tier:
                session.add(
                    LoyaltyAccount(
                        customer_id=customer.id,
                        tier=tier,
                        points=points,
                        tier_since=date(2024, 1, 1),
                    )
                )
            for k, product in enumerate(products[: (n % 4) + 1]):
                assert product.id is not None
                session.add(
                    Holding(
                        customer_id=customer.id, product_id=product.id, since=date(2018 + k, 1, 1)
                    )
                )
            for i in range(count):
                session.add(
                    Interaction(
                        customer_id=customer.id,
                        at=NOW - timedelta(days=i, hours=i % 7),
                        channel=CHANNELS[i % len(CHANNELS)],
                        direction="inbound" if i % 3 else "outbound",
                        subject=f"Question #{count - i} about the bill",
                        outcome=OUTCOMES[i % len(OUTCOMES)],
                        agent=f"agent{i % 4}",
                        notes=f"Note {count - i}",
                    )
                )
        # The console's agent in most tests: registered as an agent (unknown users are branch
        # staff, who get a look-up console).
        session.add(Agent(user_name="maria", display_name="María", role="agent"))
        await index_customers(session, ids)
    return ids
