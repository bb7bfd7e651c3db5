"""CSV import: spreadsheet files, bad rows, upserts, dry runs and the command's contract."""

from __future__ import annotations

import codecs
import csv
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import SQLModel, col

from console.cli import frontline
from core.importing.fields import RowError, normalize_phone, parse_amount, parse_datetime
from core.importing.runner import UnreadableFile, import_file
from core.models import ContactPoint, Customer, Interaction, Transaction
from core.search.service import SearchService

CUSTOMERS = (
    "external_id;first_name;last_name;email;phone;city;country;birth_date;created_at;"
    "do_not_call\n"
    "C00000001;María;García López;Maria.Garcia@Example.com;612-345-678;Madrid;ES;31/12/1980;"
    "2020-01-05;no\n"
    'C00000002;"José ""Pepe""";"Núñez; de Arce";;"+34 611 22 33 44";"A Coruña";España;'
    "1975-02-03;2021-06-01 09:30;sí\n"
    "C00000003;John;Smith;john@example.co.uk;+44 7700 900123;London;GB;;;\n"
)


def _write(path: Path, text: str, bom: bool = False) -> Path:
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8"))
    return path


async def _count(sessions: async_sessionmaker[AsyncSession], model: type[SQLModel]) -> int:
    async with sessions() as session:
        id_column = model.id  # type: ignore[attr-defined]
        return int((await session.execute(select(func.count(col(id_column))))).scalar_one())


async def _customer(sessions: async_sessionmaker[AsyncSession], external_id: str) -> Customer:
    async with sessions() as session:
        query = select(Customer).where(col(Customer.external_id) == external_id)
        return (await session.execute(query)).scalar_one()


def _rejects(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        sample = handle.readline()
        handle.seek(0)
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        return list(csv.DictReader(handle, delimiter=delimiter))


async def test_spreadsheet_file_with_bom_semicolons_and_quotes(
    tmp_path: Path, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    source = _write(tmp_path / "customers.csv", CUSTOMERS, bom=True)
    result = await import_file(engine, "customers", source, rejects_path=tmp_path / "r.csv")
    assert (result.imported, result.rejected, result.rejects_file) == (3, 0, None)

    maria = await _customer(sessions, "C00000001")
    assert (maria.first_name, maria.last_name, maria.city) == ("María", "García López", "Madrid")
    assert maria.birth_date == date(1980, 12, 31)
    assert maria.customer_since == date(2020, 1, 5)
    assert not maria.do_not_call and not maria.marketing_consent
    pepe = await _customer(sessions, "C00000002")
    assert (pepe.first_name, pepe.last_name) == ('José "Pepe"', "Núñez; de Arce")
    assert (pepe.country, pepe.city, pepe.do_not_call) == ("ES", "A Coruña", True)
    async with sessions() as session:
        points = (
            await session.execute(
                select(ContactPoint.customer_id, ContactPoint.kind, ContactPoint.normalized)
                .where(col(ContactPoint.is_primary))
                .order_by(col(ContactPoint.id))
            )
        ).all()
    assert (maria.id, "phone", "34612345678") in points
    assert (maria.id, "email", "maria.garcia@example.com") in points
    assert (pepe.id, "phone", "34611223344") in points
    assert any(kind == "phone" and number == "447700900123" for _, kind, number in points)


async def test_comma_file_without_bom_and_a_field_over_two_lines(
    tmp_path: Path, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await import_file(engine, "customers", _write(tmp_path / "c.csv", CUSTOMERS), rejects_path=None)
    interactions = _write(
        tmp_path / "interactions.csv",
        "external_id,at,channel,direction,subject,outcome,agent,notes\n"
        'C00000001,2024-05-02T10:15:00Z,phone,inbound,"Factura, dudas",resolved,ana.ruiz,"Llamó\n'
        'dos veces"\n'
        "C00000002,02/05/2024 11:00,sales visit,OUTBOUND,Visita comercial,sale,,\n"
        "C00000999,2024-05-02,chat,inbound,Hola,,,\n"
        "C00000003,2024-05-02,fax,inbound,Hola,,,\n",
    )
    result = await import_file(
        engine, "interactions", interactions, rejects_path=tmp_path / "rejects.csv"
    )
    assert (result.imported, result.rejected) == (2, 2)
    rejects = _rejects(tmp_path / "rejects.csv")
    # The first record spans lines 2-3, so the unknown customer is on line 5.
    assert [(r["line"], r["external_id"]) for r in rejects] == [
        ("5", "C00000999"),
        ("6", "C00000003"),
    ]
    assert "unknown customer" in rejects[0]["reason"]
    assert "unknown channel 'fax'" in rejects[1]["reason"]
    async with sessions() as session:
        stored = list((await session.execute(select(Interaction))).scalars())
    first = next(i for i in stored if i.subject == "Factura, dudas")
    assert first.notes == "Llamó\ndos veces"
    assert first.at == datetime(2024, 5, 2, 10, 15, tzinfo=UTC)
    visit = next(i for i in stored if i.channel == "sales_visit")
    assert visit.direction == "outbound"
    maria = await _customer(sessions, "C00000001")
    assert maria.last_activity_at == datetime(2024, 5, 2, 10, 15, tzinfo=UTC)


async def test_bad_rows_are_rejected_whole_and_the_good_ones_imported(
    tmp_path: Path, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    source = _write(
        tmp_path / "customers.csv",
        "external_id,first_name,last_name,email,phone,birth_date\n"
        "C1,Ana,Ruiz,ana@example.com,600111222,1990-01-01\n"
        ",Sin,Número,sin@example.com,600111223,1990-01-01\n"
        "C3,Mal,Fecha,mal@example.com,600111224,31/02/1990\n"
        "C4,Mal,Correo,not-an-email,600111225,1990-01-01\n"
        "C5,Luis,Vega,luis@example.com,600111226,1991-01-01\n",
    )
    rejects_path = tmp_path / "out" / "customers.rejects.csv"
    result = await import_file(engine, "customers", source, rejects_path=rejects_path)
    assert (result.imported, result.rejected, result.rejects_file) == (2, 3, rejects_path)

    rows = _rejects(rejects_path)
    assert list(rows[0]) == [
        "external_id", "first_name", "last_name", "email", "phone", "birth_date", "line",
        "reason",
    ]  # fmt: skip
    assert [(r["line"], r["external_id"]) for r in rows] == [("3", ""), ("4", "C3"), ("5", "C4")]
    assert rows[0]["reason"] == "missing external_id"
    assert "unparseable date in birth_date" in rows[1]["reason"]
    assert "not an email address" in rows[2]["reason"]
    # C4's phone was fine, but the row was refused whole: nothing of it is stored.
    assert await _count(sessions, Customer) == 2
    async with sessions() as session:
        numbers = set((await session.execute(select(ContactPoint.normalized))).scalars())
    assert numbers == {"34600111222", "ana@example.com", "34600111226", "luis@example.com"}


async def test_reimporting_is_harmless_and_updates_in_place(
    tmp_path: Path, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    customers = _write(tmp_path / "c.csv", CUSTOMERS)
    transactions = _write(
        tmp_path / "t.csv",
        "external_id;date;amount;product_code;channel\n"
        "C00000001;2024-03-01;12,50;FIBRE_300;web\n"
        "C00000001;2024-03-01;12,50;FIBRE_300;web\n"
        "C00000002;2024-03-02 18:00;€1.234,56;;store\n",
    )
    interactions = _write(
        tmp_path / "i.csv",
        "external_id,at,channel,direction,subject\nC00000003,2024-01-01,email,inbound,Hello\n",
    )
    for _ in range(2):
        await import_file(engine, "customers", customers, rejects_path=None)
        await import_file(engine, "transactions", transactions, rejects_path=None)
        await import_file(engine, "interactions", interactions, rejects_path=None)
    assert await _count(sessions, Customer) == 3
    assert await _count(sessions, ContactPoint) == 5
    assert await _count(sessions, Interaction) == 1
    async with sessions() as session:
        amounts = sorted((await session.execute(select(Transaction.amount))).scalars())
    # Two identical purchases in one file are two purchases; the second import adds none.
    assert amounts == [Decimal("12.50"), Decimal("12.50"), Decimal("1234.56")]

    update = _write(
        tmp_path / "update.csv",
        "external_id,first_name,last_name,city,phone\nC00000001,María,García López,Toledo,"
        "+34 699 000 111\n",
    )
    result = await import_file(engine, "customers", update, rejects_path=None)
    assert result.imported == 1
    maria = await _customer(sessions, "C00000001")
    assert maria.city == "Toledo"
    assert maria.birth_date == date(1980, 12, 31)  # not in the file: kept
    async with sessions() as session:
        phones = (
            await session.execute(
                select(ContactPoint.normalized, ContactPoint.is_primary)
                .where(col(ContactPoint.customer_id) == maria.id)
                .where(col(ContactPoint.kind) == "phone")
                .order_by(col(ContactPoint.id))
            )
        ).all()
    assert [tuple(p) for p in phones] == [("34612345678", True), ("34699000111", False)]


@pytest.mark.parametrize("bulk_index_from", [1_000_000, 2], ids=["per-batch", "at-the-end"])
async def test_imported_customers_are_found_by_search(
    tmp_path: Path,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    bulk_index_from: int,
) -> None:
    # A small file is indexed batch by batch; a big one (here: from 2 rows) once at the end.
    source = _write(tmp_path / "c.csv", CUSTOMERS)
    indexed: list[tuple[int, int]] = []
    await import_file(
        engine,
        "customers",
        source,
        rejects_path=None,
        bulk_index_from=bulk_index_from,
        index_progress=lambda done, total: indexed.append((done, total)),
    )
    assert bool(indexed) == (bulk_index_from == 2)
    search = SearchService(sessions)
    by_name = await search.search("maria garcia")
    assert [h.external_id for h in by_name][:1] == ["C00000001"]
    by_phone = await search.by_phone("611 22 33 44")
    assert [h.external_id for h in by_phone] == ["C00000002"]
    by_email = await search.search("john@example.co.uk")
    assert [h.external_id for h in by_email] == ["C00000003"]
    await search.close()


async def test_dry_run_writes_nothing(
    tmp_path: Path, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    source = _write(tmp_path / "c.csv", CUSTOMERS + ",Sin,Número,,,,,,,\n")
    result = await import_file(engine, "customers", source, rejects_path=None, dry_run=True)
    assert (result.imported, result.rejected, result.rejects_file) == (3, 1, None)
    assert result.rejects[0].line == 5
    assert await _count(sessions, Customer) == 0
    assert await _count(sessions, ContactPoint) == 0


async def test_unreadable_files(tmp_path: Path, engine: AsyncEngine) -> None:
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 40)
    cases = {
        tmp_path / "missing.csv": "no such file",
        binary: "not a text file",
        tmp_path: "is a directory",
        _write(tmp_path / "empty.csv", "\n\n"): "empty",
        _write(tmp_path / "wrong.csv", "id,name\n1,Ana\n"): "missing column(s) external_id",
    }
    for path, message in cases.items():
        with pytest.raises(UnreadableFile, match=re.escape(message)):
            await import_file(engine, "customers", path, rejects_path=None)


def test_cell_parsers() -> None:
    assert parse_amount("1.234,56", "amount") == Decimal("1234.56")
    assert parse_amount("1,234.56", "amount") == Decimal("1234.56")
    assert parse_amount("-12,5", "amount") == Decimal("-12.50")
    with pytest.raises(RowError):
        parse_amount("doce", "amount")
    assert normalize_phone("0034 612345678", "", "phone") == "34612345678"
    assert normalize_phone("(612) 345678", "ES", "phone") == "34612345678"
    assert normalize_phone("07700 900123", "GB", "phone") == "447700900123"
    assert parse_datetime("2024-07-01 10:00+02:00", "at", None) == datetime(
        2024, 7, 1, 8, tzinfo=UTC
    )
    # A date alone is noon, so it stays on its day in any zone.
    assert parse_datetime("01/07/2024", "at", UTC) == datetime(2024, 7, 1, 12, tzinfo=UTC)
    with pytest.raises(RowError, match="unparseable date"):
        parse_datetime("2024-13-01", "at", UTC)


def _cli(db_url: str, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    env = {"FRONTLINE_DATABASE_URL": db_url, "FRONTLINE_DATA_DIR": str(tmp_path / "data")}
    result = runner.invoke(frontline, ["import", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_command_summary_json_and_exit_codes(db_url: str, tmp_path: Path) -> None:
    good = _write(tmp_path / "good.csv", CUSTOMERS)
    code, out, _ = _cli(db_url, tmp_path, "customers", str(good))
    assert code == 0
    assert out.strip() == "imported 3, rejected 0"

    code, out, _ = _cli(db_url, tmp_path, "customers", str(good), "--json")
    assert code == 0
    assert json.loads(out) == {"imported": 3, "rejected": 0, "rejects_file": None}

    bad = _write(tmp_path / "bad.csv", CUSTOMERS + "C9,,,,,,,,,\n")
    code, out, err = _cli(db_url, tmp_path, "customers", str(bad), "--json")
    assert code == 1
    expected = str(tmp_path / "bad.rejects.csv")
    assert json.loads(out) == {"imported": 3, "rejected": 1, "rejects_file": expected}
    assert f"{bad}:5: missing name" in err
    code, out, _ = _cli(db_url, tmp_path, "customers", str(bad))
    assert out.strip() == f"imported 3, rejected 1, rejects in {expected}"

    code, out, _ = _cli(db_url, tmp_path, "transactions", str(tmp_path / "none.csv"), "--json")
    assert code == 2
    assert json.loads(out) == {"imported": 0, "rejected": 0, "rejects_file": None}
    binary = tmp_path / "data.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50)
    assert _cli(db_url, tmp_path, "customers", str(binary))[0] == 2

    fresh = _write(tmp_path / "fresh.csv", CUSTOMERS.replace("C0000000", "D0000000"))
    code, out, _ = _cli(db_url, tmp_path, "customers", str(fresh), "--dry-run", "--json")
    assert code == 0
    assert json.loads(out) == {"imported": 3, "rejected": 0, "rejects_file": None}
    code, out, _ = _cli(db_url, tmp_path, "customers", str(good), "--json")
    assert json.loads(out)["imported"] == 3  # upserts; the dry run's rows were never written


class _StrictKind:
    """Writes each row as a customer with a plain INSERT, so a duplicate number is refused by
    the database itself (not by the parser)."""

    name = "customers"
    required = ("external_id",)
    optional: tuple[str, ...] = ()

    def parse(self, row: dict[str, str]) -> str:
        return row["external_id"]

    async def write(self, session: AsyncSession, rows: list[Any]) -> list[Any]:
        await session.execute(
            Customer.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "external_id": r.values, "first_name": "", "last_name": r.values,
                    "city": "", "country": "", "marketing_consent": False,
                    "do_not_call": False, "created_at": datetime.now(UTC),
                    "updated_at": datetime.now(UTC),
                }
                for r in rows
            ],
        )  # fmt: skip
        return []


async def test_rows_the_database_refuses_are_rejected_alone(
    tmp_path: Path,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("core.importing.runner.make_kind", lambda kind, tz: _StrictKind())
    source = _write(tmp_path / "c.csv", "external_id\nA1\nA2\nA1\nA3\n")
    result = await import_file(
        engine, "customers", source, rejects_path=tmp_path / "rejects.csv", batch_rows=10
    )
    assert (result.imported, result.rejected) == (3, 1)
    assert result.rejects[0].line == 4
    assert result.rejects[0].reason.startswith("refused by the database")
    async with sessions() as session:
        stored = sorted((await session.execute(select(Customer.external_id))).scalars())
    assert stored == ["A1", "A2", "A3"]
