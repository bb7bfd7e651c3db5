"""The real API served by uvicorn on a free loopback port, in a thread of the test process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from core.api import create_app
from core.config import Settings


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """Serve `create_app(settings)` until the block ends; yields its base URL."""
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    started = threading.Event()

    def run() -> None:
        loop = asyncio.new_event_loop()
        loop.run_until_complete(_serve(server, started))
        loop.close()

    thread = threading.Thread(target=run, name="api-under-test", daemon=True)
    thread.start()
    if not started.wait(30):
        raise RuntimeError("the API did not start in 30 s")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


async def _serve(server: uvicorn.Server, started: threading.Event) -> None:
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    started.set()
    await task
