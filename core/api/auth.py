"""Scoped API tokens: a phone system's token reports calls, an administrator's reads the queue.

`FRONTLINE_API_EVENT_TOKENS` open the phone-system routes only, `FRONTLINE_API_ADMIN_TOKENS`
the administration routes only; `FRONTLINE_API_TOKENS` (the one setting of earlier versions)
opens both, so an existing installation works as before. A valid token on a route of the
other scope gets 403, saying which scope it lacks (docs/api.md).
"""

from __future__ import annotations

import hmac
import re
from enum import StrEnum

from core.api.guards import OPEN_PATHS, ASGIApp, Receive, Scope, Send, _problem
from core.config import Settings
from core.i18n import words as _


class TokenScope(StrEnum):
    EVENTS = "events"
    """Phone-system events: call events, routing, agents' states, look-up by phone."""
    ADMIN = "admin"
    """Administration: the queue and its figures, one call's events, agents' contacts."""


_ADMIN_ROUTES = (
    ("GET", re.compile(r"/v1/queue/?")),
    ("GET", re.compile(r"/v1/calls/[^/]+/?")),
    ("PUT", re.compile(r"/v1/agents/[^/]+/contact/?")),
)
_EVENT_ROUTES = (
    ("POST", re.compile(r"/v1/calls/[a-z]+/?")),
    ("POST", re.compile(r"/v1/route/?")),
    ("POST", re.compile(r"/v1/agents/[^/]+/state/?")),
    ("GET", re.compile(r"/v1/customers/by-phone/?")),
)


def scope_of(method: str, path: str) -> TokenScope:
    """The scope a request needs; administration for anything not a phone-system route."""
    for wanted, pattern in _EVENT_ROUTES:
        if method == wanted and pattern.fullmatch(path):
            return TokenScope.EVENTS
    return TokenScope.ADMIN


def token_scopes(settings: Settings) -> dict[str, frozenset[TokenScope]]:
    """Each configured token and what it opens (a token in two settings opens both)."""
    found: dict[str, set[TokenScope]] = {}
    for tokens, scopes in (
        (settings.api_tokens, {TokenScope.EVENTS, TokenScope.ADMIN}),
        (settings.api_event_tokens, {TokenScope.EVENTS}),
        (settings.api_admin_tokens, {TokenScope.ADMIN}),
    ):
        for token in tokens:
            if token:
                found.setdefault(token, set()).update(scopes)
    return {token: frozenset(scopes) for token, scopes in found.items()}


class ScopedBearerAuth:
    """401 without a known token; 403 when the token's scope does not cover the route.

    It runs before FastAPI reads the body, so a caller without the right token learns nothing
    about validation.
    """

    def __init__(self, app: ASGIApp, tokens: dict[str, frozenset[TokenScope]]) -> None:
        self.app = app
        self._tokens = [(token.encode(), scopes) for token, scopes in tokens.items()]

    def _scopes(self, header: bytes) -> frozenset[TokenScope] | None:
        scheme, _, token = header.partition(b" ")
        token = token.strip()
        if scheme.lower() != b"bearer" or not token:
            return None
        found: frozenset[TokenScope] | None = None
        # Compare against every token so the time taken does not tell which one was close.
        for known, scopes in self._tokens:
            if hmac.compare_digest(token, known):
                found = scopes
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"")
        scopes = self._scopes(header)
        if scopes is None:
            detail = _("wrong bearer token") if header else _("missing bearer token")
            await _problem(send, 401, detail, [(b"www-authenticate", b"Bearer")])
            return
        needed = scope_of(scope["method"], scope["path"])
        if needed not in scopes:
            setting = {
                TokenScope.EVENTS: "FRONTLINE_API_EVENT_TOKENS",
                TokenScope.ADMIN: "FRONTLINE_API_ADMIN_TOKENS",
            }[needed]
            detail = _(
                "this token may not use {method} {path}: it needs the {scope} scope (a token"
                " from {setting} or FRONTLINE_API_TOKENS)"
            ).format(
                method=scope["method"], path=scope["path"], scope=needed.value, setting=setting
            )
            await _problem(send, 403, detail, [])
            return
        await self.app(scope, receive, send)
