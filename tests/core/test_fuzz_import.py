"""Fuzzing `frontline import` through the real command: whatever the bytes, encoding,
delimiter, quotes and sizes, the outcome is an exit status of 0, 1 or 2 with a message, never
a traceback, and never 3 (a database failure) for a bad row."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.cli import frontline

REQUIRED = {
    "customers": ["external_id", "first_name", "last_name"],
    "transactions": ["external_id", "date", "amount"],
    "interactions": ["external_id", "at", "channel", "direction", "subject"],
}
OPTIONAL = {
    "customers": ["email", "phone", "city", "country", "birth_date", "created_at",
                  "marketing_consent", "do_not_call"],
    "transactions": ["product_code", "channel"],
    "interactions": ["outcome", "agent", "notes"],
}  # fmt: skip
DATES = [
    "2024-03-31",
    "31/02/1990",
    "0001-01-01",
    "9999-12-31 23:00",
    "1899-12-31",
    "2024-03-31T14:05:00Z",
    "2024-03-31 25:00",
    "31.12.1980",
    "2024-01-01 +14:00",
]
POOLS = {
    "external_id": ["C1", "C2", "C3", "x" * 40],
    "first_name": ["Ana", "José \"Pepe\"", "x" * 120], "last_name": ["Núñez; de Arce", "Gil"],
    "email": ["a@b.co", "bad@"], "phone": ["612 345 678", "+34 611 22 33 44", "12", "abc"],
    "city": ["Madrid"], "country": ["ES", "España", "Narnia"],
    "birth_date": DATES, "created_at": DATES, "date": DATES, "at": DATES,
    "marketing_consent": ["yes", "sí", "maybe"], "do_not_call": ["x", "0", "nope"],
    "amount": ["12.50", "1.234,56", "€ 3", "NaN", "1e999", "0.001", "-5"],
    "product_code": ["FIBRE_300", "NOPE"], "channel": ["phone", "email", "tienda", "fax"],
    "direction": ["inbound", "out", "sideways"], "subject": ["Billing", "x" * 400],
    "outcome": ["solved"], "agent": ["ana"], "notes": ["Called\nback, twice, ok", "n"],
}  # fmt: skip
HOSTILE = st.one_of(
    st.just(""),
    st.text(max_size=30),
    st.text(alphabet='",;\t|\r\n\x00 ab', max_size=12),
    st.sampled_from(["x" * 1_100_000, "é" * 70_000]),
)


def cells(column: str) -> st.SearchStrategy[str]:
    pool = st.sampled_from(POOLS.get(column, ["?"]))
    return st.one_of(pool, pool, pool, pool, pool, pool, HOSTILE)


ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1"]


def _quote(cell: str, style: int) -> str:
    if style == 0:
        return cell
    if style == 1:
        return '"' + cell.replace('"', '""') + '"'
    return '"' + cell  # a quote never closed


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, bytes, str]:
    kind = draw(st.sampled_from(sorted(REQUIRED)))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    columns = REQUIRED[kind] + draw(st.lists(st.sampled_from(OPTIONAL[kind]), unique=True))
    columns = list(draw(st.permutations(columns)))
    header = delimiter.join(c.upper() if draw(st.booleans()) else c for c in columns)
    lines = [header]
    for _ in range(draw(st.integers(0, 12))):
        width = len(columns) + draw(st.sampled_from([0] * 8 + [-1, 1, -len(columns) + 1]))
        row = [draw(cells((columns + [""])[min(i, len(columns))])) for i in range(max(0, width))]
        styles = [draw(st.sampled_from([0] * 12 + [1, 1, 2])) for _ in row]
        lines.append(delimiter.join(_quote(c, s) for c, s in zip(row, styles, strict=True)))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = end.join(lines) + draw(st.sampled_from(["", end]))
    encoding = draw(st.sampled_from(ENCODINGS))
    return kind, text.encode(encoding, errors="replace"), draw(ZONES)


ZONES = st.sampled_from(["", "UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Madrid"])
"""Year 1 and year 9999 overflowed at the two ends of the world's zones."""

raw_files = st.tuples(
    st.sampled_from(sorted(REQUIRED)),
    st.one_of(
        st.binary(max_size=2000),
        st.binary(max_size=200).map(lambda b: b"external_id,first_name,last_name\n" + b),
    ),
    ZONES,
)


SEED = b"external_id,first_name,last_name\nC1,Ana,Ruiz\nC2,Eva,Mora\n"
"""Customers the activity files' rows refer to, so that their rows reach the database."""


def _import(tmp_path: Path, kind: str, data: bytes, zone: str) -> None:
    env = {
        "FRONTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}",
        "FRONTLINE_DATA_DIR": str(tmp_path / "data"),
        "FRONTLINE_TIMEZONE": zone,
    }
    if not (tmp_path / "fuzz.db").exists():
        (tmp_path / "seed.csv").write_bytes(SEED)
        seeded = CliRunner().invoke(
            frontline, ["import", "customers", str(tmp_path / "seed.csv")], env=env
        )
        assert seeded.exit_code == 0, seeded.output
    source = tmp_path / "fuzz.csv"
    source.write_bytes(data)
    result = CliRunner().invoke(frontline, ["import", kind, str(source)], env=env)
    said = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), said
    assert "Traceback" not in said
    assert result.exit_code in (0, 1, 2), said
    if result.exit_code == 2:
        assert "cannot import" in result.stderr
    else:
        assert result.stdout.startswith("imported "), said


FUZZ = settings(
    max_examples=60,
    deadline=None,  # each example runs the whole command (migrations check included)
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)  # fmt: skip


@settings(FUZZ, max_examples=150)  # about 300 found year 1 on the code before issue 13
@given(csv_files())
def test_any_spreadsheet_file_imports_or_is_refused_cleanly(
    tmp_path: Path, drawn: tuple[str, bytes, str]
) -> None:
    _import(tmp_path, *drawn)


@FUZZ
@given(raw_files)
def test_any_bytes_import_or_are_refused_cleanly(
    tmp_path: Path, drawn: tuple[str, bytes, str]
) -> None:
    _import(tmp_path, *drawn)
