"""The floor for the call benchmarks: a bare ASGI route doing one insert per request.

    .venv/bin/python -m benchmarks.floor_api --url DATABASE_URL --port PORT

Served by uvicorn like `frontline api` (one process, same event loop, same database driver
through SQLAlchemy), it answers every POST with 201 and `{"event_id": N}` after inserting the
body as one row of its own table in one transaction. No token check, no validation, no state
machine, no change notification: what any HTTP API writing to this database costs at least.
`bench_calls` drives it with the same client as the real API, in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import is_sqlite, make_engine

Message = MutableMapping[str, Any]

_INSERT = text(
    "INSERT INTO floor_event (path, idempotency_key, body) VALUES (:p, :k, :b) RETURNING id"
)


def floor_app(engine: AsyncEngine) -> Callable[..., Awaitable[None]]:
    sqlite = is_sqlite(str(engine.url))
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT" if sqlite else "SERIAL PRIMARY KEY"

    async def app(scope: Message, receive: Callable[[], Awaitable[Message]], send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    # Several workers start at once: the table is created by one of them.
                    with contextlib.suppress(DBAPIError):
                        async with engine.begin() as connection:
                            await connection.execute(
                                text(
                                    f"CREATE TABLE IF NOT EXISTS floor_event (id {serial}, "
                                    "path TEXT, idempotency_key TEXT, body TEXT)"
                                )
                            )
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await engine.dispose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, answer = 200, {"status": "ok"}
        if scope["method"] == "POST":
            key = dict(scope["headers"]).get(b"idempotency-key", b"").decode()
            async with engine.begin() as connection:
                result = await connection.execute(
                    _INSERT, {"p": scope["path"], "k": key, "b": body.decode()}
                )
            status, answer = 201, {"event_id": result.scalar_one()}
        payload = json.dumps(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    return app


def main() -> None:
    from core.api.serve import serve

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    serve(
        lambda: floor_app(make_engine(args.url)),
        workers=args.workers,
        host="127.0.0.1",
        port=args.port,
        access_log=False,
        log_level="warning",
        backlog=4096,
    )


if __name__ == "__main__":
    main()
