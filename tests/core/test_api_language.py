"""The API's error messages read in the request's Accept-Language; fields and codes never change."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from core.api import create_app
from core.api.language import preferred
from core.config import Settings


def _client(db_url: str, engine: AsyncEngine, token: str, language: str) -> httpx.AsyncClient:
    settings = Settings(database_url=db_url, api_tokens=("both",))
    headers = {"Authorization": f"Bearer {token}"}
    if language:
        headers["Accept-Language"] = language
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings, engine=engine)),
        base_url="http://frontline.test",
        headers=headers,
    )


async def test_errors_follow_accept_language(db_url: str, engine: AsyncEngine) -> None:
    async with _client(db_url, engine, "guess", "es-MX,es;q=0.9,en;q=0.5") as spanish:
        refused = await spanish.get("/v1/queue")
    assert refused.status_code == 401
    assert refused.json() == {"detail": "token bearer incorrecto"}
    async with _client(db_url, engine, "both", "es") as spanish:
        missing = await spanish.post("/v1/calls/answered", json={"call_id": 999, "agent": "ana"})
    assert missing.status_code == 404
    assert set(missing.json()) == {"detail"}  # the same field, whatever the language
    assert "no hay ninguna llamada con id 999" in missing.json()["detail"]
    async with _client(db_url, engine, "both", "en-GB") as english:
        missing = await english.post("/v1/calls/answered", json={"call_id": 999, "agent": "ana"})
    assert missing.status_code == 404 and "no call with id 999" in missing.json()["detail"]
    async with _client(db_url, engine, "guess", "") as unspoken:  # the process's language
        assert (await unspoken.get("/v1/queue")).json() == {"detail": "wrong bearer token"}


def test_accept_language_weights_and_unknown_languages() -> None:
    assert preferred("fr-FR, es-419;q=0.8, en;q=0.9") == preferred("en")
    found = preferred("pt-BR,es-AR;q=0.7")
    assert found is not None and found.catalogs == ("es_419", "es")
    assert preferred("fr, de;q=0.5") is None
    assert preferred("es;q=0, en") == preferred("en")


async def test_a_spanish_phone_system_reads_its_refusals_in_spanish(
    db_url: str, engine: AsyncEngine
) -> None:
    queued = {"caller_number": "+34 600 123 123", "external_id": "1716.42", "queue": "sales"}
    key = {"Idempotency-Key": "k-1"}
    async with _client(db_url, engine, "both", "es") as spanish:
        first = await spanish.post("/v1/calls/queued", json=queued, headers=key)
        reused = await spanish.post(
            "/v1/calls/abandoned", json={"external_id": "1716.42"}, headers=key
        )
        nowhere = await spanish.post(
            "/v1/calls/transferred",
            json={"external_id": "1716.42", "to_agent": "ana", "to_queue": "sales"},
        )
        unroutable = await spanish.post("/v1/route", json={"external_id": "1716.99"})
    assert first.status_code == 201
    assert reused.status_code == 409  # the same status and field, in the caller's language
    assert reused.json() == {
        "detail": "la clave de idempotencia 'k-1' ya se usó para un evento queued de la llamada "
        f"{first.json()['call_id']}"
    }
    assert nowhere.status_code == 422
    (problem,) = nowhere.json()["detail"]
    assert problem["msg"].startswith("indica exactamente uno de to_agent y to_queue")
    assert problem["type"] == "value_error"  # pydantic's "Value error, " left out of the words
    assert unroutable.status_code == 422
    assert [p["msg"] for p in unroutable.json()["detail"]] == [
        "una llamada que se enruta por external_id necesita su caller_number"
    ]
    async with _client(db_url, engine, "both", "en") as english:
        again = await english.post(
            "/v1/calls/abandoned", json={"external_id": "1716.42"}, headers=key
        )
    assert (
        again.status_code == 409 and "was already used for a queued event" in again.json()["detail"]
    )
