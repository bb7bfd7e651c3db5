"""Answers for what goes wrong outside a route's own errors: a body that fails validation (422,
whatever text it holds) and a database that is down, restarting or locked (503 with
Retry-After, never a 500 or a dropped connection). The API recovers by itself: the pool
checks each connection before use, so the first request after the database is back works.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from core.errors import is_database_down
from core.i18n import words as _

RETRY_AFTER_SECONDS = 2
"""What a 503 asks the client to wait before retrying (with the same Idempotency-Key)."""

_log = logging.getLogger(__name__)


def printable(value: Any) -> Any:
    """`value` with every text made UTF-8-safe (a lone surrogate shown as its escape)."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {printable(k): printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable(v) for v in value]
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return "NaN"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return str(value)
    return value


def unavailable_response(error: BaseException) -> JSONResponse:
    """503 naming what failed; the client retries with the same Idempotency-Key."""
    reason = str(getattr(error, "orig", None) or error) or type(error).__name__
    return JSONResponse(
        {
            "detail": _(
                "database unavailable, retry with the same Idempotency-Key: {reason}"
            ).format(reason=reason)
        },
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def own_words(problem: dict[str, Any]) -> dict[str, Any]:
    """A validation problem whose `msg` is our validator's own message, in the request's
    language: pydantic puts its English "Value error, " in front of it."""
    cause = (problem.get("ctx") or {}).get("error")
    if problem.get("type") == "value_error" and isinstance(cause, ValueError) and str(cause):
        return {**problem, "msg": str(cause)}
    return problem


def install(app: FastAPI) -> None:
    """Register the handlers on `app`: a database failure anywhere (an event, the audit
    trail, a read) is a 503."""

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        errors = printable(jsonable_encoder([own_words(problem) for problem in error.errors()]))
        return JSONResponse({"detail": errors}, status_code=422)

    async def down(_request: Request, error: Exception) -> JSONResponse:
        if not is_database_down(error):
            raise error
        _log.warning("database unavailable: %s", type(error).__name__)
        return unavailable_response(error)

    for kind in (DBAPIError, OSError, PoolTimeout):
        app.add_exception_handler(kind, down)


__all__ = ["RETRY_AFTER_SECONDS", "install", "is_database_down", "printable"]
