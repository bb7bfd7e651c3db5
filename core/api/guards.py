"""Bearer-token authentication in front of the API (401).

It runs before FastAPI reads the body, so a caller without a valid token learns nothing
about validation.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_PATHS = frozenset({"/healthz", "/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"})


async def _problem(
    send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]]
) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BearerAuth:
    """Refuses every request but the open paths without one of the configured tokens."""

    def __init__(self, app: ASGIApp, tokens: tuple[str, ...]) -> None:
        self.app = app
        self._tokens = tuple(t.encode() for t in tokens if t)

    def _valid(self, header: bytes) -> bool:
        scheme, _, token = header.partition(b" ")
        if scheme.lower() != b"bearer" or not token.strip():
            return False
        token = token.strip()
        # Compare against every token so the time taken does not tell which one was close.
        matches = [hmac.compare_digest(token, known) for known in self._tokens]
        return any(matches)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"")
        if not self._valid(header):
            detail = "wrong bearer token" if header else "missing bearer token"
            await _problem(send, 401, detail, [(b"www-authenticate", b"Bearer")])
            return
        await self.app(scope, receive, send)
