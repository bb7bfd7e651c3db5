"""Roles by command and identity that cannot be typed in (core/identity.py, `frontline agents`)."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from console.cli import frontline
from core.config import Settings, load_settings
from core.db import make_engine, make_sessions
from core.identity import IdentityRefused, IdentitySource, os_login, resolve
from core.models import Call, Role
from core.services.agents import AgentExists, AgentNotFound, AgentService


def run(url: str, *args: str, agent: str = "") -> Result:
    env = {
        "FRONTLINE_DATABASE_URL": url,
        "FRONTLINE_ENV_FILE": "/nonexistent",
        "FRONTLINE_TRUST_AGENT_ENV": "1" if agent else "0",
        "FRONTLINE_AGENT": agent,
        "USER": "somebody-else",
    }
    return CliRunner().invoke(frontline, list(args), env=env)


async def test_unknown_users_are_branch_staff_until_a_role_is_given(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    agents = AgentService(sessions)
    assert await agents.role_of("nobody") == Role.BRANCH
    first = await agents.ensure("walkin")
    assert first.role == Role.BRANCH
    await agents.add("sara", Role.SUPERVISOR)
    with pytest.raises(AgentExists):
        await agents.add("sara")
    await agents.set_role("walkin", Role.AGENT)
    assert [(a.user_name, a.role) for a in await agents.list()] == [
        ("sara", "supervisor"),
        ("walkin", "agent"),
    ]
    with pytest.raises(AgentNotFound):
        await agents.set_role("ghost", Role.AGENT)


async def test_removing_an_agent_who_handled_calls_keeps_them_as_branch_staff(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    agents = AgentService(sessions)
    busy = await agents.add("busy")
    await agents.add("idle")
    async with sessions() as session, session.begin():
        session.add(Call(agent_id=busy.id, caller_number="600"))
    assert await agents.remove("idle") is True
    assert await agents.remove("busy") is False
    assert [(a.user_name, a.role) for a in await agents.list()] == [("busy", "branch")]


def test_a_typed_name_is_ignored_unless_the_administrator_trusts_it() -> None:
    assert resolve("boss").name == os_login()
    assert resolve("boss").source == IdentitySource.OS
    trusted = resolve("boss", trust_typed=True)
    assert (trusted.name, trusted.source, trusted.os_admin) == ("boss", "typed", False)
    settings = load_settings({"FRONTLINE_AGENT": "boss", "USER": "boss"})
    assert settings.agent_name == os_login()  # neither $USER nor FRONTLINE_AGENT


def test_an_ssh_key_name_is_taken_only_on_the_key_account() -> None:
    with pytest.raises(IdentityRefused):
        resolve(as_key="maria")
    with pytest.raises(IdentityRefused):
        resolve(as_key="maria", key_account="branchdesk")
    keyed = resolve("boss", trust_typed=True, as_key="maria", key_account=os_login())
    assert (keyed.name, keyed.source, keyed.os_admin) == ("maria", "ssh-key", False)
    # The key account itself is shared by every key holder: never an administrator.
    assert resolve(key_account=os_login()).os_admin is False


def test_ssh_connection_says_where_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSH_CONNECTION", "203.0.113.7 50022 10.0.0.2 22")
    assert resolve().place == "ssh 203.0.113.7"


def test_as_key_outside_the_key_account_stops_the_command(db_url: str) -> None:
    result = run(db_url, "--as-key", "maria", "lookup", "x")
    assert result.exit_code == 2
    assert "--as-key" in result.output


def test_agents_commands_need_a_supervisor_or_the_machines_administrator(db_url: str) -> None:
    # The test runs as root: the OS administrator, who makes the first supervisor.
    assert run(db_url, "agents", "add", "sara", "--role", "supervisor").exit_code == 0
    assert run(db_url, "agents", "add", "luis").exit_code == 0
    refused = run(db_url, "agents", "set-role", "luis", "supervisor", agent="luis")
    assert refused.exit_code == 1 and "needs the supervisor role" in refused.output
    assert run(db_url, "agents", "list", agent="walkin").exit_code == 1
    assert run(db_url, "agents", "set-role", "luis", "branch", agent="sara").exit_code == 0
    listed = json.loads(run(db_url, "agents", "list", "--json", agent="sara").output)
    assert [(a["user_name"], a["role"]) for a in listed] == [
        ("luis", "branch"),
        ("sara", "supervisor"),
    ]
    assert run(db_url, "agents", "remove", "luis", agent="sara").exit_code == 0
    assert run(db_url, "agents", "set-role", "luis", "agent").exit_code == 1  # gone
    assert run(db_url, "agents", "add", "x", "--role", "boss").exit_code == 2


def test_branch_staff_may_look_up_but_not_search(db_url: str) -> None:
    asyncio.run(_add(db_url, "desk", Role.BRANCH))
    assert run(db_url, "lookup", "nobody", agent="desk").exit_code == 1  # allowed, no match
    refused = run(db_url, "search", "nobody", agent="desk")
    assert refused.exit_code == 1 and "may not search customers" in refused.output
    batch = run(db_url, "search", "--batch", agent="desk")
    assert batch.exit_code == 1 and "may not search" in batch.output
    asyncio.run(_add(db_url, "ana", Role.AGENT))
    assert run(db_url, "search", "nobody", agent="ana").exit_code == 1  # allowed, no match
    assert "may not" not in run(db_url, "search", "nobody", agent="ana").output


async def _add(url: str, name: str, role: Role) -> None:
    engine = make_engine(url)
    try:
        await AgentService(make_sessions(engine)).add(name, role)
    finally:
        await engine.dispose()


def test_settings_default_to_the_os_login() -> None:
    assert Settings().agent_name == os_login()


def keyed(url: str, original: str) -> Result:
    """`ssh host ORIGINAL` with a key forced to `frontline --as-key desk` on the key account."""
    env = {
        "FRONTLINE_DATABASE_URL": url,
        "FRONTLINE_ENV_FILE": "/nonexistent",
        "FRONTLINE_KEY_ACCOUNT": os_login(),
        "SSH_ORIGINAL_COMMAND": original,
        "SSH_CONNECTION": "198.51.100.4 51000 10.0.0.2 22",
    }
    return CliRunner().invoke(frontline, ["--as-key", "desk"], env=env)


def test_a_key_login_runs_what_the_client_asked_as_the_keys_person(db_url: str) -> None:
    from tests.core.test_search import seed

    async def setup() -> None:
        engine = make_engine(db_url)
        try:
            await seed(make_sessions(engine))
        finally:
            await engine.dispose()

    asyncio.run(setup())
    looked = keyed(db_url, "lookup 'jose nunez'")
    assert looked.exit_code == 0 and "José" in looked.output
    assert keyed(db_url, "search jose").exit_code == 1  # branch staff: look-ups only
    sneaky = keyed(db_url, "--agent sara audit")
    assert sneaky.exit_code == 2 and "not allowed" in sneaky.output

    async def trail() -> list[tuple[str, str, str]]:
        from sqlalchemy import text

        engine = make_engine(db_url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text("SELECT actor, action, place FROM audit_event ORDER BY id")
                )
                return [(str(a), str(b), str(c)) for a, b, c in rows]
        finally:
            await engine.dispose()

    assert asyncio.run(trail()) == [("desk", "lookup", "ssh 198.51.100.4")]


def test_a_typed_name_that_is_not_trusted_is_said_to_be_ignored(db_url: str) -> None:
    env = {
        "FRONTLINE_DATABASE_URL": db_url,
        "FRONTLINE_ENV_FILE": "/nonexistent",
        "FRONTLINE_TRUST_AGENT_ENV": "0",
    }
    result = CliRunner().invoke(frontline, ["--agent", "sara", "lookup", "x"], env=env)
    assert "'sara' (--agent, FRONTLINE_AGENT) is ignored" in result.stderr
    assert f"acting as {os_login()}" in result.stderr
    trusted = CliRunner().invoke(
        frontline, ["--agent", "sara", "lookup", "x"], env={**env, "FRONTLINE_TRUST_AGENT_ENV": "1"}
    )
    assert "ignored" not in trusted.stderr
