"""Serve an ASGI application with uvicorn, in one process or several sharing one socket.

Several worker processes use both cores of a machine: one Python process runs one request at
a time, and under load the API's own CPU (validation, the state machine, the driver) is what
makes requests wait. The workers share nothing but the database: idempotency keys, the order of
a call's events (row locks) and the change feed are all kept there, so any worker may take any
request. Each worker is forked before it builds its application, so every one has its own
engine and connection pool (an asyncpg connection must never cross a fork).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any


def serve(
    build: Callable[[], Any],
    *,
    host: str,
    port: int,
    workers: int = 1,
    setup: Callable[[], Callable[[], None]] | None = None,
    **options: Any,
) -> None:
    """Run `build()`'s application until SIGINT/SIGTERM.

    Args:
        build: makes the ASGI application (called once in each worker).
        host: address to listen on.
        port: port to listen on.
        workers: worker processes; 1 serves in this process.
        setup: called in each worker before `build`; returns what to call when it stops
            (the API's log writer thread, which a fork does not carry over).
        options: more uvicorn.Config options (access_log, log_level, backlog…).
    """
    import uvicorn

    if workers <= 1:
        stop = setup() if setup is not None else None
        try:
            uvicorn.run(build(), host=host, port=port, **options)
        finally:
            if stop is not None:
                stop()
        return

    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(options.get("backlog", 2048))
    listener.set_inheritable(True)
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                stop = setup() if setup is not None else None
                try:
                    config = uvicorn.Config(build(), host=host, port=port, **options)
                    uvicorn.Server(config).run(sockets=[listener])
                finally:
                    if stop is not None:
                        stop()
            except BaseException:  # noqa: BLE001 - told, then the worker exits
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children.append(pid)
    listener.close()

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    failed = False
    for child in children:
        while True:
            try:
                _, status = os.waitpid(child, 0)
                break
            except InterruptedError:
                continue
        if os.waitstatus_to_exitcode(status) not in (0, -signal.SIGTERM):
            failed = True
            forward(signal.SIGTERM, None)  # one worker gone wrong: stop the others
    if failed:
        raise SystemExit(1)


__all__ = ["serve"]
