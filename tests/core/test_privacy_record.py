"""The customer record: edits kept as field history with restore, and likely duplicates."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import AuditEvent
from core.privacy.service import PrivacyService
from core.search.service import SearchService
from core.services.customers import CustomerService


async def test_edits_are_kept_as_history_and_can_be_restored(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    customers = CustomerService(sessions)
    ana = await customers.create("Ana", "Ruiz", phones=["+34 600 111 222"], city="Madrid")
    assert ana.id is not None
    await customers.update(
        ana.id, actor="maria", place="/dev/pts/1", city="Sevilla", do_not_call=True
    )
    await customers.update(ana.id, actor="maria", city="Sevilla")  # no change: no history
    await customers.set_contacts(ana.id, "phone", ["+34 699 000 111"], actor="luis")
    history = await customers.field_history(ana.id)
    assert [(c.actor, c.field, json.loads(c.old), json.loads(c.new)) for c in history] == [
        ("luis", "phones", ["+34 600 111 222"], ["+34 699 000 111"]),
        ("maria", "do_not_call", False, True),
        ("maria", "city", "Madrid", "Sevilla"),
    ]
    search = SearchService(sessions, inline=True)
    assert [h.customer_id for h in await search.search("699 000 111")] == [ana.id]
    assert await search.search("600 111 222") == []

    await customers.restore(history[0].id or 0, actor="sara")
    await customers.restore(history[2].id or 0, actor="sara")
    restored = await customers.get(ana.id)
    assert restored.city == "Madrid" and restored.do_not_call
    assert [h.customer_id for h in await search.search("600 111 222")] == [ana.id]
    await search.close()
    newest = await customers.field_history(ana.id)
    assert [(c.actor, c.field) for c in newest[:2]] == [("sara", "city"), ("sara", "phones")]
    assert newest[0].restored_from == history[2].id
    async with sessions() as session:
        trail = list((await session.execute(select(AuditEvent))).scalars())
    assert [(e.actor, e.action) for e in trail][:2] == [("maria", "update"), ("luis", "update")]
    assert trail[0].place == "/dev/pts/1" and "city" in trail[0].detail


async def test_a_birth_date_restored_comes_back_as_a_date(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    customers = CustomerService(sessions)
    ana = await customers.create("Ana", "Ruiz", birth_date=date(1985, 3, 9))
    assert ana.id is not None
    await customers.update(ana.id, actor="maria", birth_date=date(1986, 3, 9))
    change = (await customers.field_history(ana.id))[0]
    await customers.restore(change.id or 0, actor="maria")
    assert (await customers.get(ana.id)).birth_date == date(1985, 3, 9)


async def test_erasure_takes_the_old_values_out_of_the_history(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    customers = CustomerService(sessions)
    ana = await customers.create("Ana", "Ruiz", city="Madrid")
    assert ana.id is not None
    await customers.update(ana.id, actor="maria", city="Sevilla")
    await PrivacyService(sessions).erase("sara", ana.id, "customer asked, ticket 9")
    assert await customers.field_history(ana.id) == []


async def test_likely_duplicates_say_what_they_share_and_what_differs(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    customers = CustomerService(sessions)
    born = date(1980, 5, 17)
    new = await customers.create(
        "José", "Núñez Pérez", phones=["612 345 678"], emails=["jn@correo.es"], birth_date=born
    )
    same_phone = await customers.create("Pepe", "Núñez", phones=["+34 612 345 678"], city="Jaén")
    same_email = await customers.create("J.", "Núñez", emails=["JN@correo.es"])
    namesake = await customers.create("Jose", "Nunez Perez", city="Málaga", birth_date=born)
    await customers.create("José", "Núñez Pérez", birth_date=date(1990, 1, 1))  # another José
    await customers.create("Marta", "Gil", birth_date=born)
    assert new.id is not None
    found = await customers.duplicates(new.id)
    by_id = {d.customer_id: d for d in found}
    assert set(by_id) == {same_phone.id, same_email.id, namesake.id}
    assert by_id[same_email.id or 0].shared == ("email jn@correo.es",)
    assert by_id[namesake.id or 0].shared == ("name and birth date",)
    assert any(d.startswith("city") for d in by_id[namesake.id or 0].differs)
    assert by_id[same_phone.id or 0].shared == ("phone …612345678",)


async def test_duplicates_by_phone_match_on_the_trailing_digits_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # The look-up is a range over the reversed digits: numbers that end in 9s, or share all
    # but the last digit, are the edges.
    customers = CustomerService(sessions)
    new = await customers.create("Rosa", "Vidal", phones=["699 999 999"])
    same = await customers.create("R.", "Vidal Soler", phones=["+34 699 999 999"])
    await customers.create("Raúl", "Vidal", phones=["699 999 998"])
    await customers.create("Rita", "Vidal", phones=["799 999 999"])
    assert new.id is not None
    assert [d.customer_id for d in await customers.duplicates(new.id)] == [same.id]
