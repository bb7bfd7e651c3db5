"""The whole audit trail from the command line and the API: look-ups, searches (which
customers were listed), reveals, exports and erasures; `frontline audit` reads it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from console.cli import frontline
from core.api import create_app
from core.config import Settings
from core.db import make_engine, make_sessions
from core.identity import os_login
from core.models import Role
from core.services.agents import AgentService
from tests.core.test_search import seed


def run(url: str, *args: str, agent: str = "", stdin: str | None = None) -> Result:
    env = {
        "FRONTLINE_DATABASE_URL": url,
        "FRONTLINE_ENV_FILE": "/nonexistent",
        "FRONTLINE_TRUST_AGENT_ENV": "1",
        "FRONTLINE_AGENT": agent,
    }
    return CliRunner().invoke(frontline, list(args), env=env, input=stdin)


async def _setup(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        sessions = make_sessions(engine)
        people = await seed(sessions)
        agents = AgentService(sessions)
        await agents.add("ana", Role.AGENT)
        await agents.add("desk", Role.BRANCH)
        await agents.add("sara", Role.SUPERVISOR)
        return people
    finally:
        await engine.dispose()


async def _trail(url: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT actor, action, customer_id, detail FROM audit_event ORDER BY id")
            )
            return [tuple(row) for row in rows]
    finally:
        await engine.dispose()


def test_searches_audit_which_customers_they_listed(db_url: str) -> None:
    people = asyncio.run(_setup(db_url))
    assert run(db_url, "search", "jose nunez", agent="ana").exit_code == 0
    assert run(db_url, "search", "maria garcia lopez", "--json", agent="ana").exit_code == 0
    batch = '{"q": "zubizarreta"}\n{"q": "qqqqqqqq"}\nnot json\n'
    assert run(db_url, "search", "--batch", agent="ana", stdin=batch).exit_code == 0
    trail = asyncio.run(_trail(db_url))
    assert all(actor == "ana" and action == "search" for actor, action, _, _ in trail)
    listed = {(customer, str(detail).split(";")[0]) for _, _, customer, detail in trail}
    assert listed >= {
        (people["jose"], "query='jose nunez'"),
        (people["maria_mad"], "query='maria garcia lopez'"),
        (people["maria_sev"], "query='maria garcia lopez'"),
        (people["inigo"], "query='zubizarreta'"),
        (None, "query='qqqqqqqq'"),
    }


def test_lookup_masks_and_reveals_only_with_a_reason(db_url: str) -> None:
    people = asyncio.run(_setup(db_url))
    masked = run(db_url, "lookup", "jose nunez", agent="desk")
    assert masked.exit_code == 0 and "655" not in masked.output
    refused = run(db_url, "lookup", "jose nunez", "--reveal", agent="desk")
    assert refused.exit_code == 2 and "reason" in refused.output
    shown = run(
        db_url, "lookup", "jose nunez", "--reveal", "--reason", "caller checks", agent="desk"
    )
    assert shown.exit_code == 0
    assert "0034 655 44 33 22" in shown.output and "jose.nunez@correo.es" in shown.output
    payload = json.loads(run(db_url, "lookup", "jose nunez", "--json", agent="desk").output)
    assert payload["card"]["revealed"] is False and "655" not in payload["card"]["phone"]
    trail = asyncio.run(_trail(db_url))
    assert [(a, act, c) for a, act, c, _ in trail] == [
        ("desk", "lookup", people["jose"]),
        ("desk", "lookup", people["jose"]),
        ("desk", "reveal", people["jose"]),
        ("desk", "lookup", people["jose"]),
    ]
    assert trail[2][3] == "caller checks"


def test_audit_reads_the_trail_by_customer_actor_and_date(db_url: str) -> None:
    people = asyncio.run(_setup(db_url))
    run(db_url, "lookup", "jose nunez", agent="desk")
    run(db_url, "search", "marta gonzalez", agent="ana")
    assert run(db_url, "audit", agent="ana").exit_code == 1  # agents may not read it
    jose = f"C{people['jose']:08d}"
    about = json.loads(run(db_url, "audit", "--customer", jose, "--json", agent="sara").output)
    assert [(e["actor"], e["action"]) for e in about] == [("desk", "lookup")]
    by_ana = json.loads(run(db_url, "audit", "--actor", "ana", "--json", agent="sara").output)
    assert by_ana and {e["actor"] for e in by_ana} == {"ana"}
    assert people["marta"] in {e["customer_id"] for e in by_ana}
    future = json.loads(run(db_url, "audit", "--since", "2999-01-01", "--json").output)
    assert future == []
    plain = run(db_url, "audit", "--customer", str(people["jose"]), agent="sara")
    assert "desk" in plain.output and "lookup" in plain.output


def test_privacy_commands_are_for_supervisors_and_audited(db_url: str, tmp_path: object) -> None:
    people = asyncio.run(_setup(db_url))
    jose = f"C{people['jose']:08d}"
    assert run(db_url, "privacy", "export", jose, agent="ana").exit_code == 1
    exported = json.loads(run(db_url, "privacy", "export", jose, "--json", agent="sara").output)
    assert exported["tables"]["contact_point"][0]["value"] == "0034 655 44 33 22"
    no_reason = run(db_url, "privacy", "erase", jose, "--reason", "", "--yes", agent="sara")
    assert no_reason.exit_code == 2
    assert run(
        db_url, "privacy", "erase", jose, "--reason", "asked", "--yes", agent="ana"
    ).exit_code
    erased = run(db_url, "privacy", "erase", jose, "--reason", "ticket 42", "--yes", agent="sara")
    assert erased.exit_code == 0, erased.output
    assert run(db_url, "lookup", "jose nunez", agent="desk").exit_code == 1  # gone from search
    trail = asyncio.run(_trail(db_url))
    assert [(a, act) for a, act, c, _ in trail if c == people["jose"]] == [
        ("sara", "export"),
        ("sara", "erase"),
    ]


@pytest.fixture
async def client(db_url: str, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=db_url, api_tokens=("t0ken",)), engine=engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://frontline.test",
        headers={"Authorization": "Bearer t0ken"},
    ) as client:
        yield client


async def test_the_apis_screen_pop_lookup_is_audited(
    db_url: str, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    people = await seed(make_sessions(engine))
    found = (await client.get("/v1/customers/by-phone", params={"number": "655 44 33 22"})).json()
    assert found["count"] == 1
    async with engine.connect() as connection:
        rows = [
            tuple(row)
            for row in await connection.execute(
                text("SELECT actor, action, customer_id, place FROM audit_event")
            )
        ]
    assert rows == [("api", "lookup", people["jose"], "api")]


def test_the_os_login_is_the_actor_when_no_name_is_trusted(db_url: str) -> None:
    asyncio.run(_setup(db_url))
    run(db_url, "lookup", "jose nunez")
    assert asyncio.run(_trail(db_url))[0][0] == os_login()
