"""`frontline rules check|simulate` and `frontline offers`: exit codes and JSON contracts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from console.cli import frontline
from core.db import make_engine, make_sessions
from core.models import OfferPresentation
from tests.core.rules_fixtures import RULES, add_customer, write_rules


def run(args: list[str], db_url: str = "", rules_file: str = "") -> tuple[int, str, str]:
    env = {
        "FRONTLINE_DATABASE_URL": db_url,
        "FRONTLINE_RULES_FILE": rules_file,
        "FRONTLINE_ENV_FILE": "/nonexistent",
    }
    result = CliRunner().invoke(frontline, args, env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def seed(db_url: str, customers: list[dict[str, object]]) -> list[int]:
    async def go() -> list[int]:
        engine = make_engine(db_url)
        try:
            sessions = make_sessions(engine)
            return [await add_customer(sessions, **c) for c in customers]  # type: ignore[arg-type]
        finally:
            await engine.dispose()

    return asyncio.run(go())


def presentations(db_url: str) -> int:
    async def go() -> int:
        engine = make_engine(db_url)
        try:
            async with engine.connect() as connection:
                query = select(func.count()).select_from(OfferPresentation)
                return int((await connection.execute(query)).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_check_a_valid_file_exits_0(tmp_path: Path) -> None:
    code, out, _ = run(["rules", "check", str(write_rules(tmp_path))])
    assert code == 0
    assert "valid, 3 offers" in out


def test_check_prints_each_error_and_exits_1(tmp_path: Path) -> None:
    broken = RULES.replace("value = 90.0", 'value = "x"').replace(
        "'customer.tier == \"Gold\"'", "'customer.tierr == \"Gold\"'"
    )
    path = write_rules(tmp_path, broken)
    code, out, err = run(["rules", "check", str(path)])
    assert code == 1
    assert out.splitlines() == [
        f"{path}:22:9: wrong type: value must be a number, not text 'x'",
        f"{path}:35:18: condition 'gold': unknown field 'customer.tierr'; did you mean 'tier'?",
    ]
    assert "2 errors" in err
    code, out, _ = run(["rules", "check", str(path), "--json"])
    report = json.loads(out)
    assert code == 1 and report["valid"] is False
    assert report["errors"][0] == {
        "line": 22,
        "column": 9,
        "message": "wrong type: value must be a number, not text 'x'",
    }


def test_simulate_counts_who_would_get_what(db_url: str, tmp_path: Path) -> None:
    seed(
        db_url,
        [
            {"number": "C00000001"},
            {"number": "C00000002", "products": ("FIBRE_1G",), "tier": "Silver", "points": 2500},
            {"number": "C00000003", "consent": False},
            {"number": "C00000004", "do_not_call": True},
        ],
    )
    path = write_rules(tmp_path)
    code, out, _ = run(
        ["rules", "simulate", str(path), "--as-of", "2026-11-23", "--reason", "billing", "--json"],
        db_url,
    )
    assert code == 0
    report = json.loads(out)
    assert report["customers"] == 4
    assert report["as_of"] == "2026-11-23" and report["reason"] == "billing"
    offers = {o["id"]: o for o in report["offers"]}
    fibre = offers["fibre-upgrade"]
    assert (fibre["eligible"], fibre["shown"]) == (1, 1)
    assert fibre["by_tier"] == {"Gold": 1}
    assert fibre["policy"] == {"policy: consent": 1, "policy: do not call": 1}
    assert fibre["conditions"][0] == {
        "name": "holds_fibre_300",
        "expression": '"FIBRE_300" in customer.products',
        "failed": 1,
        "sole_blocker": 1,
    }
    assert offers["gold-thanks"]["eligible"] == 2  # a service offer: consent not needed
    assert report["customers_with_offers"] == 2  # Silver with 1 Gb fibre: nothing
    assert report["cuts"][0]["failed"] >= report["cuts"][-1]["failed"]
    assert presentations(db_url) == 0  # a simulation records nothing


def test_offers_for_a_customer_number_with_explanations(db_url: str, tmp_path: Path) -> None:
    seed(db_url, [{"number": "C00012345"}])
    path = str(write_rules(tmp_path))
    code, out, _ = run(["offers", "C00012345", "--reason", "billing", "--json"], db_url, path)
    assert code == 0
    result = json.loads(out)
    assert result["customer"] == "C00012345" and result["recorded"] is False
    first = result["offers"][0]
    assert first["offer_id"] == "fibre-upgrade" and first["presentation_id"] is None
    assert first["script"].startswith("Ana, after ")
    clause = next(c for c in first["explanation"] if c["clause"] == "calm_call")
    assert clause == {
        "clause": "calm_call",
        "expression": 'call.reason in ["billing", "technical", ""]',
        "passed": True,
        "seen": 'call.reason = "billing"',
    }
    assert presentations(db_url) == 0
    code, out, _ = run(["offers", "C00012345", "--json", "--record"], db_url, path)
    assert all(o["presentation_id"] for o in json.loads(out)["offers"])
    assert presentations(db_url) == len(json.loads(out)["offers"])


def test_offers_for_an_unknown_customer_fails(db_url: str) -> None:
    code, _, err = run(["offers", "C99999999", "--json"], db_url)
    assert code == 1
    assert "no customer numbered C99999999" in err
