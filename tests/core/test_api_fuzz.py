"""Schemathesis over the API's own /openapi.json, on SQLite and PostgreSQL: whatever a client
sends (huge numbers, NaN, lone surrogates, NUL bytes, year 1 and year 9999, long names), the
answer is never a 5xx and always matches the documented schema.

Bounded: a fixed number of examples per operation and no per-example deadline (the machine is
shared), derandomized so a run in CI is the run a developer repeats.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.config import Settings
from tests.core.api_server import serving

TOKEN = "fuzz-token"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
"""Per operation; FUZZ_EXAMPLES=400 FUZZ_RANDOM=1 for a long, random hunt."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_url(db_url: str) -> Iterator[str]:
    with serving(Settings(database_url=db_url, api_tokens=(TOKEN,))) as url:
        yield url


@pytest.fixture
def api_schema(api_url: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{api_url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("FUZZ_RANDOM") is None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gives_a_server_error_or_an_undocumented_answer(
    case: schemathesis.Case,
) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)
