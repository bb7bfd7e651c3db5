"""What a failed database write is called in the console's and the commands' messages: plain
words (locked, cannot be reached, refused the change) instead of the driver's text."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from core.errors import database_reason, plain_reason
from core.i18n import using
from core.models import Agent


async def test_a_refused_change_names_the_rule_it_broke(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        session.add(Agent(user_name="ana"))
    with pytest.raises(IntegrityError) as refused:
        async with sessions() as session, session.begin():
            session.add(Agent(user_name="ana"))
    said = database_reason(refused.value)
    assert said is not None and said.startswith("the database refused the change: "), said
    assert "agent" in said and "INSERT" not in said and "[SQL" not in said, said


async def test_a_database_that_is_not_running_is_named_with_its_address() -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"  # port 9: nothing listens
    engine = create_async_engine(url)
    try:
        with pytest.raises(Exception) as failed:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert "Errno" in str(failed.value)  # what the agent used to be shown
    plain = "the database cannot be reached (PostgreSQL at 127.0.0.1:9)"
    assert database_reason(failed.value, url) == plain
    assert database_reason(failed.value) == plain  # the address is in the error too
    with using("es"):
        assert database_reason(failed.value, url) == (
            "no se puede conectar con la base de datos (PostgreSQL en 127.0.0.1:9)"
        )


async def test_a_locked_sqlite_database_is_said_to_be_locked(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    url = f"sqlite+aiosqlite:///{path}"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    engine = create_async_engine(url, connect_args={"timeout": 0.05})
    try:
        with pytest.raises(Exception) as failed:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        await engine.dispose()
        holder.execute("ROLLBACK")
        holder.close()
    # the holder is this test's own process, which is never named
    assert database_reason(failed.value, url) == "the database is locked by another program"
    with using("es"):
        assert plain_reason(failed.value, url) == "otro programa tiene bloqueada la base de datos"


def test_an_error_that_is_not_the_database_keeps_its_own_words() -> None:
    assert database_reason(ValueError("Give points for Tone")) is None
    assert plain_reason(ValueError("Give points for Tone")) == "Give points for Tone"


@pytest.mark.parametrize("command", [["db", "upgrade"], ["lookup", "Ana"], ["search", "Ana"]])
def test_a_command_says_plainly_that_the_database_cannot_be_reached(command: list[str]) -> None:
    from click.testing import CliRunner

    from console.cli import frontline

    env = {
        "FRONTLINE_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere",
        "FRONTLINE_ENV_FILE": "/nonexistent",
    }
    result = CliRunner().invoke(frontline, command, env=env)
    assert result.exit_code == 1, result.output
    assert "the database cannot be reached (PostgreSQL at 127.0.0.1:9)" in result.output
    assert "Errno" not in result.output and "Traceback" not in result.output, result.output
