"""Small rules files and customers for the rules tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Customer, Holding, LoyaltyAccount, Product, Transaction

CATALOGUE = {
    "MOBILE_BASIC": "mobile", "MOBILE_PLUS": "mobile", "FIBRE_300": "fibre", "FIBRE_1G": "fibre",
    "TV_ESSENTIAL": "tv", "TV_SPORTS": "tv", "ENERGY_LIGHT": "energy", "INSURE_HOME": "insurance",
}  # fmt: skip

RULES = """
version = "test"
[policy]
arbitration = "expected_value"
max_offers_per_call = 2
decline_cooldown_days = 30
decline_reasons = ["not interested", "too expensive"]

[[offer]]
id = "fibre-upgrade"
title = "Upgrade to 1 Gb fibre"
value = 120.0
prior = { rate = 0.10, weight = 50 }
script = "{customer.first_name}, after {customer.tenure_years} years with us, 1 Gb is 9.90 more."
[offer.when]
holds_fibre_300 = '"FIBRE_300" in customer.products'
calm_call = 'call.reason in ["billing", "technical", ""]'

[[offer]]
id = "tv-sports"
title = "TV Sports"
value = 90.0
prior = { rate = 0.10, weight = 50 }
script = "{customer.first_name}, add TV Sports."
[offer.when]
has_tv = '"tv" in customer.product_lines'

[[offer]]
id = "gold-thanks"
title = "Thank you, Gold member"
kind = "service"
value = 10.0
script = "Thanks {customer.first_name}, you have {customer.points:int} points."
[offer.when]
gold = 'customer.tier == "Gold"'
"""


def write_rules(tmp_path: Path, text: str = RULES, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def add_customer(
    sessions: async_sessionmaker[AsyncSession],
    number: str = "C00000001",
    first_name: str = "Ana",
    consent: bool = True,
    do_not_call: bool = False,
    products: tuple[str, ...] = ("FIBRE_300", "TV_ESSENTIAL"),
    tier: str = "Gold",
    points: int = 7000,
    since: date = date(2020, 1, 1),
) -> int:
    """A customer with a loyalty account, holdings and one purchase per product."""
    async with sessions() as session, session.begin():
        known = {p.code: p for p in (await session.execute(Product.__table__.select())).all()}
        customer = Customer(
            external_id=number, first_name=first_name, last_name="García", city="Madrid",
            country="ES", birth_date=date(1980, 5, 1), customer_since=since,
            marketing_consent=consent, do_not_call=do_not_call,
        )  # fmt: skip
        session.add(customer)
        await session.flush()
        assert customer.id is not None
        session.add(LoyaltyAccount(customer_id=customer.id, tier=tier, points=points))
        for code in products:
            if code in known:
                product_id = known[code].id
            else:
                product = Product(code=code, name=code.title(), line=CATALOGUE[code])
                session.add(product)
                await session.flush()
                product_id = product.id
                known[code] = product  # type: ignore[assignment]
            session.add(Holding(customer_id=customer.id, product_id=product_id, since=since))
            session.add(
                Transaction(
                    customer_id=customer.id, product_id=product_id, amount=Decimal("50.00"),
                    at=datetime.now(UTC) - timedelta(days=20),
                )
            )  # fmt: skip
        return customer.id
