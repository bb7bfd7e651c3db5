"""CSV import: spreadsheet files, bad rows, upserts, dry runs and the command's contract."""

from __future__ import annotations

import asyncio
import codecs
import csv
import json
import random
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import SQLModel, col

from console.cli import frontline
from core.analytics.service import AnalyticsService
from core.config import Settings
from core.db import make_engine, make_sessions
from core.importing.customer_columns import ColumnParser, ParsedChunk
from core.importing.customer_rows import make_parser
from core.importing.fields import RowError, normalize_phone, parse_amount, parse_datetime
from core.importing.runner import UnreadableFile, import_file
from core.models import ContactPoint, Customer, CustomerMetrics, Interaction, Transaction
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


async def test_line_breaks_outside_quotes_reject_their_row_and_old_mac_files_import(
    tmp_path: Path, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    header = "external_id,first_name,last_name,email,phone\n"
    stray = _write(
        tmp_path / "stray.csv",
        header + "C1,Ana,Ruiz,ana@example.com,600111222\n"
        "C2,Bo\rb,Gil,bob@example.com,600111223\n"
        "C3,Eva,Sanz,eva@example.com,600111224\n",
    )
    rejects_path = tmp_path / "stray.rejects.csv"
    result = await import_file(engine, "customers", stray, rejects_path=rejects_path)
    assert (result.imported, result.rejected) == (2, 1)
    (row,) = _rejects(rejects_path)
    assert (row["line"], row["external_id"]) == ("3", "C2")
    assert "line break inside a field that is not in quotes" in row["reason"]
    assert {(await _customer(sessions, e)).first_name for e in ("C1", "C3")} == {"Ana", "Eva"}

    mac = _write(
        tmp_path / "mac.csv",
        (header + "C4,Luis,Vega,luis@example.com,600111225\n").replace("\n", "\r"),
    )
    result = await import_file(engine, "customers", mac, rejects_path=tmp_path / "m.csv")
    assert (result.imported, result.rejected) == (1, 0)
    assert (await _customer(sessions, "C4")).last_name == "Vega"

    broken_header = _write(tmp_path / "header.csv", "external_id,first\rname,last_name\nC5,A,B\n")
    with pytest.raises(UnreadableFile, match="header line"):
        await import_file(engine, "customers", broken_header, rejects_path=None)


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
        await import_file(
            engine, "transactions", transactions, rejects_path=None,
            analytics=AnalyticsService(sessions, Settings()),
        )  # fmt: skip
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


def test_imported_purchases_get_figures_per_the_configured_analytics(
    db_url: str, tmp_path: Path
) -> None:
    """FRONTLINE_RFM_WINDOW_DAYS=30: an import counts only the last 30 days in frequency
    and monetary, as a refresh does (it used the default settings: all history)."""
    assert _cli(db_url, tmp_path, "customers", str(_write(tmp_path / "c.csv", CUSTOMERS)))[0] == 0
    today = datetime.now(UTC).date()
    recent, old = today - timedelta(days=10), today - timedelta(days=200)

    def purchases(external_id: str) -> str:
        rows = f"{external_id},{recent},5\n{external_id},{old},100\n"
        return str(_write(tmp_path / f"t-{external_id}.csv", "external_id,date,amount\n" + rows))

    runner = CliRunner()
    env = {"FRONTLINE_DATABASE_URL": db_url, "FRONTLINE_DATA_DIR": str(tmp_path / "data")}
    windowed = runner.invoke(
        frontline, ["import", "transactions", purchases("C00000001")],
        env=env | {"FRONTLINE_RFM_WINDOW_DAYS": "30"},
    )  # fmt: skip
    everything = runner.invoke(
        frontline, ["import", "transactions", purchases("C00000002")], env=env
    )
    assert (windowed.exit_code, everything.exit_code) == (0, 0), windowed.stderr

    async def figures() -> dict[str, tuple[int, float]]:
        engine = make_engine(db_url)
        async with make_sessions(engine)() as session:
            rows = await session.execute(
                select(col(Customer.external_id), CustomerMetrics.frequency,
                       CustomerMetrics.monetary)
                .join(CustomerMetrics, col(CustomerMetrics.customer_id) == col(Customer.id))
            )  # fmt: skip
            found = {external_id: (f, float(m)) for external_id, f, m in rows.all()}
        await engine.dispose()
        return found

    found = asyncio.run(figures())
    assert found["C00000001"] == (1, 5.0)  # the 30-day window
    assert found["C00000002"] == (2, 105.0)  # the default: all history


def test_command_summary_json_and_exit_codes(db_url: str, tmp_path: Path) -> None:
    good = _write(tmp_path / "good.csv", CUSTOMERS)
    code, out, _ = _cli(db_url, tmp_path, "customers", str(good))
    assert code == 0
    assert out.strip() == "imported 3, rejected 0"

    code, out, _ = _cli(db_url, tmp_path, "customers", str(good), "--json")
    assert code == 0
    assert json.loads(out) == {"imported": 3, "rejected": 0, "rejects_file": None}

    bad = _write(tmp_path / "bad.csv", CUSTOMERS + "C9;;;;;;;;;\n")
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
    monkeypatch.setattr(
        "core.importing.runner.make_kind", lambda kind, tz, analytics: _StrictKind()
    )
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


# Big customer files on SQLite: parsed in chunks (by worker processes from PARALLEL_FROM
# lines on), each chunk written in one transaction on a connection of the importer's own.

TRICKY = (
    "external_id;first_name;last_name;email;phone;phone2;city;country;birth_date;created_at\n"
    'B1;Ana;"Ruiz\nGil";ana@example.com;600111001;;Madrid;ES;1990-01-01;2020-01-01\n'
    "B2;Luis;Vega;luis@example.com;600111002;600111002;Sevilla;ES;;\n"
    "\n"
    "B3;;;;;;;;;\n"
    'B4;"Eva ""la"" Sanz";Mora;eva@example.com;+34 600 111 004;0034600111005;"A Coruña";'
    "España;31/12/1980;2021-06-01 09:30\n"
    "B5;Mal;Fecha;;;;;;31/02/1990;\n"
    'B6;Pablo;"Díaz;\nde la Torre";p@example.com;600111006;;;;;\n'
    "B2;Luis;Vega Ríos;luis.vega@example.com;600111007;;;;1985-05-05;\n"
    "B7;Sara;Gil;sara@example.com;600111008;;Toledo;ES;1970-07-07;2019-09-09\n"
)


async def _snapshot(sessions: async_sessionmaker[AsyncSession]) -> tuple[Any, Any]:
    async with sessions() as session:
        customers = (
            await session.execute(
                select(
                    Customer.external_id, Customer.first_name, Customer.last_name,
                    Customer.city, Customer.country, Customer.birth_date,
                    Customer.customer_since, Customer.created_at,
                ).order_by(col(Customer.external_id))
            )
        ).all()  # fmt: skip
        points = (
            await session.execute(
                select(
                    Customer.external_id, ContactPoint.kind, ContactPoint.value,
                    ContactPoint.normalized, ContactPoint.label, ContactPoint.is_primary,
                )
                .join(Customer, col(Customer.id) == col(ContactPoint.customer_id))
                .order_by(col(Customer.external_id), col(ContactPoint.id))
            )
        ).all()  # fmt: skip
    return [tuple(c) for c in customers], [tuple(p) for p in points]


@pytest.mark.parametrize("workers", [False, True], ids=["here", "workers"])
async def test_big_file_path_gives_what_the_batch_path_gives(
    tmp_path: Path,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    workers: bool,
) -> None:
    """Chunks of 2 rows cut through quoted line breaks, a blank line, a customer twice and
    bad rows: the bulk path (SQLite: its own connection; PostgreSQL: COPY) stores and
    rejects exactly what the batch path does."""
    source = _write(tmp_path / "c.csv", TRICKY, bom=True)
    found: list[Any] = []
    for bulk in (False, True):
        if bulk:
            async with engine.begin() as connection:  # start again from no customers
                await connection.exec_driver_sql("DELETE FROM contact_point")
                await connection.exec_driver_sql("DELETE FROM customer")
            if workers:
                monkeypatch.setattr("core.importing.customer_bulk.PARALLEL_FROM", 0)
        result = await import_file(
            engine,
            "customers",
            source,
            rejects_path=tmp_path / f"{bulk}.rejects.csv",
            bulk_index_from=2 if bulk else 1_000_000,
            batch_rows=2,
        )
        assert (result.imported, result.rejected) == (6, 2)
        customers, points = await _snapshot(sessions)
        found.append(([c[:7] for c in customers], points, result.rejects))
        search = SearchService(sessions)
        assert [h.external_id for h in await search.search("eva sanz")][:1] == ["B4"]
    assert found[0] == found[1]
    customers, points, rejects = found[1]
    assert [(r.line, r.reason.split(" (")[0]) for r in rejects] == [
        (6, "missing name"),
        (8, "unparseable date in birth_date: '31/02/1990'"),
    ]
    by_id = {c[0]: c for c in customers}
    assert by_id["B1"][2] == "Ruiz\nGil"
    assert by_id["B2"][1:3] == ("Luis", "Vega Ríos")  # the later row wins, cell by cell
    assert by_id["B4"][1] == 'Eva "la" Sanz'
    luis = [p for p in points if p[0] == "B2"]
    assert sorted((p[1], p[3], p[5]) for p in luis) == [
        ("email", "luis.vega@example.com", False), ("email", "luis@example.com", True),
        ("phone", "34600111002", True), ("phone", "34600111007", False),
    ]  # fmt: skip
    assert _rejects(tmp_path / "True.rejects.csv") == _rejects(tmp_path / "False.rejects.csv")


async def test_big_file_reimport_and_dry_run(
    tmp_path: Path,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("core.importing.customer_bulk.PARALLEL_FROM", 0)
    source = _write(tmp_path / "c.csv", TRICKY)
    dry = await import_file(
        engine, "customers", source, rejects_path=None, dry_run=True, batch_rows=3
    )
    assert (dry.imported, dry.rejected) == (6, 2)
    assert await _count(sessions, Customer) == 0
    first = await import_file(
        engine, "customers", source, rejects_path=None, bulk_index_from=2, batch_rows=3
    )
    before = await _snapshot(sessions)
    again = await import_file(
        engine, "customers", source, rejects_path=None, bulk_index_from=2, batch_rows=3
    )
    assert (first.imported, again.imported) == (6, 6)
    after = await _snapshot(sessions)
    assert after[1] == before[1]  # no phone or email twice
    assert [c[:7] for c in after[0]] == [c[:7] for c in before[0]]
    update = _write(
        tmp_path / "u.csv",
        "external_id,first_name,last_name,city,phone\nB7,Sara,Gil,Cuenca,+34 699 000 111\n"
        "B8,Nuevo,Cliente,,\n",
    )
    await import_file(
        engine, "customers", update, rejects_path=None, bulk_index_from=1, batch_rows=3
    )
    sara = await _customer(sessions, "B7")
    assert (sara.city, sara.birth_date) == ("Cuenca", date(1970, 7, 7))
    assert (await _customer(sessions, "B8")).last_name == "Cliente"
    # A customer stored without a phone gets one from a later file: it becomes primary.
    phone = _write(
        tmp_path / "p.csv", "external_id,first_name,last_name,phone\nB8,Nuevo,,600999888\n"
    )
    await import_file(
        engine, "customers", phone, rejects_path=None, bulk_index_from=1, batch_rows=3
    )
    nuevo = await _customer(sessions, "B8")
    assert (nuevo.first_name, nuevo.last_name) == ("Nuevo", "Cliente")
    async with sessions() as session:
        stored = (
            await session.execute(
                select(ContactPoint.normalized, ContactPoint.is_primary)
                .where(col(ContactPoint.customer_id).in_([nuevo.id, sara.id]))
                .order_by(col(ContactPoint.customer_id), col(ContactPoint.id))
            )
        ).all()
    assert [tuple(p) for p in stored] == [
        ("34600111008", True), ("sara@example.com", True), ("34699000111", False),
        ("34600999888", True),
    ]  # fmt: skip


async def test_a_stray_quote_makes_the_importer_parse_the_rest_itself(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The quote in B2's unquoted name makes the count odd: the piece for the workers would
    # end inside B3's quoted line break, which the worker notices.
    monkeypatch.setattr("core.importing.customer_bulk.PARALLEL_FROM", 0)
    source = _write(
        tmp_path / "c.csv",
        'external_id,first_name,last_name\nB1,Ana,Ruiz\nB2,O"Neil,Moss\n'
        'B3,"Two\nlines",Gil\nB4,Eva,Mora\nB5,,\n',
    )
    engine = make_engine(sqlite_url)
    try:
        result = await import_file(
            engine, "customers", source, rejects_path=None, bulk_index_from=1, batch_rows=1
        )
        assert (result.imported, result.rejected) == (4, 1)
        assert result.rejects[0].line == 7
        sessions = make_sessions(engine)
        assert (await _customer(sessions, "B2")).first_name == 'O"Neil'
        assert (await _customer(sessions, "B3")).first_name == "Two\nlines"
    finally:
        await engine.dispose()


async def test_big_file_rows_the_database_refuses_are_rejected_alone(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("core.importing.customer_bulk.PARALLEL_FROM", 0)
    engine = make_engine(sqlite_url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON customer WHEN NEW.first_name = 'No' "
                "BEGIN SELECT RAISE(ABORT, 'no thanks'); END"
            )
        rows = "".join(
            f"R{i},{'No' if i in (3, 8) else 'Yes'},Name{i},60011{i:04d}\n" for i in range(10)
        )
        source = _write(tmp_path / "c.csv", "external_id,first_name,last_name,phone\n" + rows)
        result = await import_file(
            engine, "customers", source, rejects_path=tmp_path / "r.csv", bulk_index_from=1,
            batch_rows=6,
        )  # fmt: skip
        assert (result.imported, result.rejected) == (8, 2)
        assert [(r.line, r.reason) for r in result.rejects] == [
            (5, "refused by the database: no thanks"),
            (10, "refused by the database: no thanks"),
        ]
        assert [r["external_id"] for r in _rejects(tmp_path / "r.csv")] == ["R3", "R8"]
        sessions = make_sessions(engine)
        assert await _count(sessions, Customer) == 8
        assert await _count(sessions, ContactPoint) == 8
    finally:
        await engine.dispose()


def test_column_parser_agrees_with_the_row_parser() -> None:
    """Every row, good or bad, gets the same values or the same reason both ways."""
    columns = [
        "external_id", "first_name", "last_name", "email", "phone", "phone2", "city",
        "country", "birth_date", "created_at", "marketing_consent", "do_not_call", "email2",
        "mobile", "",
    ]  # fmt: skip
    cells = {
        "external_id": ["C1", "C2", " C3 ", "", "x" * 33, "C4", "C5", "C6"],
        "first_name": ["Ana", "", " ", "x" * 101, "José", "Eva"],
        "last_name": ["Ruiz", "", "y" * 151, "Núñez", "Gil"],
        "email": ["a@b.co", "", "bad", "A@B.CO", " c@d.es "],
        "email2": ["a@b.co", "", "w@x.org", "bad@", ""],
        "phone": ["612345678", "", "abc", "+34 612 345 678", "0034612345678", "12", ""],
        "phone2": ["612345678", "", "(91) 123-45-67", "07700 900123", ""],
        "mobile": ["", "699 000 111", "612345678", ""],
        "city": ["Madrid", "", "z" * 120],
        "country": ["ES", "", "España", "Narnia", "gb", "ES"],
        "birth_date": ["1980-01-01", "", "31/02/1990", "1850-01-01", "2099-01-01", "01/13/1990"],
        "created_at": ["2020-01-01", "", "2021-06-01 09:30", "bad", "2024-03-31T14:05:00Z"],
        "marketing_consent": ["yes", "", "no", "maybe", "sí"],
        "do_not_call": ["x", "", "0", "nope", "", ""],
        "": ["", "junk"],
    }  # fmt: skip
    rng = random.Random(7)
    records: list[list[str]] = []
    for _ in range(5000):
        fields = [rng.choice(cells[c]) for c in columns]
        draw = rng.random()
        if draw < 0.02:
            fields = fields[: rng.randint(1, len(fields))]
        elif draw < 0.04:
            fields.append(rng.choice(["", "extra", " "]))
        records.append(fields)
    today, width = date(2026, 1, 1), len(columns)
    for zone in (None, UTC):
        one_row = make_parser(columns, zone, today)
        good: list[tuple[int, Any]] = []
        bad: list[tuple[int, list[str], str]] = []
        for line, fields in enumerate(records):
            try:
                if len(fields) > width and any(f.strip() for f in fields[width:]):
                    raise RowError(f"{len(fields)} fields but the header has {width} columns")
                good.append((line, one_row(fields)))
            except RowError as error:
                bad.append((line, fields, str(error)))
        lines, values, points, rejects = ColumnParser(columns, zone, today).parse(
            records, list(range(len(records)))
        )
        chunk = ParsedChunk(lines, values, points, rejects, last_line=len(records))
        assert rejects == bad
        assert list(zip(lines, chunk.rows(), strict=True)) == good
        assert len(good) > 100 and len({reason for *_, reason in bad}) > 10
        firsts: dict[tuple[int, str], list[int]] = {}
        for row, kind, *_, first in zip(*points, strict=True):
            firsts.setdefault((row, kind), []).append(first)
        assert all(flags == [1] + [0] * (len(flags) - 1) for flags in firsts.values())
