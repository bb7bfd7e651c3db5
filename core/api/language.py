"""Each API request reads in the language its `Accept-Language` asks for (`es-MX`, `en;q=0.8`).

The error messages people read (`detail`) follow it; JSON field names, codes and statuses never
do (they are a contract with phone systems). A request without the header, or asking only for
languages Frontline does not speak, reads in the process's language (FRONTLINE_LANGUAGE …).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from core.i18n import Language, parse, using


def preferred(header: str) -> Language | None:
    """The best supported language of an `Accept-Language` header, by its q-values."""
    choices: list[tuple[float, int, str]] = []
    for n, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and weight > 0:
            choices.append((-weight, n, tag))
    for _weight, _n, tag in sorted(choices):
        found = parse(tag)
        if found is not None:
            return found
    return None


class RequestLanguage:
    """ASGI middleware: the request's handlers and errors run inside `using(language)`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"accept-language", b"")
        language = preferred(header.decode("latin-1")) if header else None
        if language is None:
            await self.app(scope, receive, send)
            return
        with using(language):
            await self.app(scope, receive, send)
