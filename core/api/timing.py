"""`Server-Timing: app;dur=…` on every answer: the time the API itself spent on the request.

A phone system (or the load benchmark) sees the whole round trip; this header says how much
of it was the API's work (from the moment the application got the request to its answer
headers), so a slow answer can be told apart from a slow client or network.
"""

from __future__ import annotations

import time

from core.api.guards import ASGIApp, Message, Receive, Scope, Send


class ServerTiming:
    """Adds the API's own time, in milliseconds, to each HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={took:.1f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, timed)
