"""Scratch PostgreSQL databases for benchmarks, made and dropped on the server of an admin URL."""

from __future__ import annotations

from sqlalchemy.engine import make_url


async def _admin(admin_url: str, *statements: str) -> None:
    import asyncpg

    url = make_url(admin_url)
    connection = await asyncpg.connect(
        user=url.username, password=url.password, host=url.host, port=url.port,
        database=url.database,
    )  # fmt: skip
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def recreate_database(admin_url: str, name: str) -> str:
    """The URL of a new, empty database `name` (dropped first, its sessions closed)."""
    await _admin(
        admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(admin_url: str, name: str) -> None:
    await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
