"""Codes are ids with labels: shown and found in the reader's language, stored and counted by id."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import upgrade_database
from core.i18n import using
from core.i18n.codes import CodesFileError, load_codes


def test_a_code_shows_its_label_in_the_reader_language() -> None:
    book = load_codes()
    with using("es_ES"):
        assert book.label("reason", "complaint") == "Reclamación"
        assert book.labels("outcome", ["resolved", "no action"]) == [
            ("resolved", "Resuelta"),
            ("no action", "Sin acción"),
        ]
    with using("en_US"):
        assert book.label("reason", "complaint") == "Complaint"
    with using("es_MX"):  # a regional label where the wording differs, else the neutral one
        assert book.label("outcome", "callback requested") == "Pide que le regresen la llamada"
        assert book.label("reason", "billing") == "Facturación"


def test_typing_the_start_of_a_label_finds_its_code_without_accents() -> None:
    book = load_codes()
    with using("es"):
        assert [c.id for c in book.find("reason", "reclam")] == ["complaint"]
        assert [c.id for c in book.find("reason", "RECLAMACION")] == ["complaint"]
        assert [c.id for c in book.find("reason", "cambio dom")] == ["address change"]
        assert [c.id for c in book.find("break", "formac")] == ["training"]
        assert book.find("reason", "zzz") == []
    with using("en"):
        assert [c.id for c in book.find("reason", "compl")] == ["complaint"]
    # Only the offered ids (the site's FRONTLINE_CALL_REASONS) are found.
    assert book.find("reason", "reclam", ids=["billing", "sales"]) == []


def test_a_typed_label_in_any_language_is_read_as_its_id() -> None:
    book = load_codes()
    assert book.to_id("reason", "Reclamación") == "complaint"
    assert book.to_id("reason", "complaint") == "complaint"
    assert book.to_id("outcome", "sin accion") == "no action"
    assert book.to_id("reason", "") is None


def test_an_unlabelled_code_shows_its_id(tmp_path: Path) -> None:
    site = tmp_path / "codes.toml"
    site.write_text(
        '[[reason]]\nid = "warranty"\nlabel.es = "Garantía"\n\n'
        '[[reason]]\nid = "billing"\nlabel.es = "Cobros"\n',
        encoding="utf-8",
    )
    book = load_codes(site)
    with using("es"):
        assert book.label("reason", "warranty") == "Garantía"
        assert book.label("reason", "billing") == "Cobros"  # relabelled by the site
        assert book.label("reason", "complaint") == "Reclamación"  # kept from the shipped file
        assert book.label("reason", "legacy code") == "legacy code"
    with using("en"):
        assert book.label("reason", "billing") == "Billing"


def test_a_bad_codes_file_names_the_file_and_the_entry(tmp_path: Path) -> None:
    site = tmp_path / "codes.toml"
    site.write_text('[[reason]]\nlabel.es = "Sin id"\n', encoding="utf-8")
    with pytest.raises(CodesFileError, match=r"codes.toml: \[\[reason\]\] number 1: needs id"):
        load_codes(site)


def test_the_migration_gives_existing_interactions_their_reason_code(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    upgrade_database(url, "0013")
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute(
            "INSERT INTO customer (id, external_id, first_name, last_name, city, country,"
            " marketing_consent, do_not_call, created_at, updated_at)"
            " VALUES (1, 'C1', 'Ana', 'Ruiz', '', '', 0, 0, '2026-01-01', '2026-01-01')"
        )
        for subject in ("Reclamación formal", "Complaint: installation delayed", "Cambio de SIM"):
            db.execute(
                "INSERT INTO interaction (customer_id, at, channel, direction, subject, outcome,"
                " agent, notes) VALUES (1, '2026-01-02 00:00:00', 'email', 'inbound', ?, '',"
                " '', '')",
                (subject,),
            )
    upgrade_database(url)
    with sqlite3.connect(tmp_path / "old.db") as db:
        rows = db.execute("SELECT subject, reason FROM interaction ORDER BY id").fetchall()
    assert rows == [
        ("Reclamación formal", "complaint"),
        ("Complaint: installation delayed", "complaint"),
        ("Cambio de SIM", ""),
    ]


async def test_open_complaints_count_the_code_not_the_words(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    from datetime import UTC, date, datetime

    from core.models import Customer, Interaction
    from core.rules.facts import open_complaints

    async with sessions() as session, session.begin():
        customer = Customer(external_id="C1", first_name="Ana", last_name="Ruiz")
        session.add(customer)
        await session.flush()
        assert customer.id is not None
        at = datetime(2026, 11, 20, 10, tzinfo=UTC)
        for subject, reason, outcome in (
            ("Reclamación formal", "complaint", "escalated"),  # counts, in Spanish
            ("Complaint about nothing", "billing", "escalated"),  # words alone: no
            ("Queja resuelta", "complaint", "resolved"),  # closed by its outcome
        ):
            session.add(
                Interaction(
                    customer_id=customer.id,
                    at=at,
                    channel="email",
                    direction="inbound",
                    subject=subject,
                    reason=reason,
                    outcome=outcome,
                )  # fmt: skip
            )
        customer_id = customer.id
    async with sessions() as session:
        assert await open_complaints(session, [customer_id], date(2026, 12, 2)) == {customer_id: 1}
