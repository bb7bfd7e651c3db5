"""PostgreSQL down under a running API (a throwaway cluster of the test's own): clients get
503 with Retry-After, /healthz says the database is unreachable, and once the server is back
the API works again by itself, the retried event applied once."""

from __future__ import annotations

import httpx

from core.config import Settings
from tests.core.api_server import serving
from tests.pg_cluster import Cluster

TOKEN = "outage-token"


def test_postgres_down_is_503_with_retry_after_and_the_api_recovers(
    own_cluster: Cluster,
) -> None:
    with (
        serving(Settings(database_url=own_cluster.url, api_tokens=(TOKEN,))) as url,
        httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        ) as client,
    ):
        assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
        first = client.post("/v1/calls/queued", json={"caller_number": "600", "external_id": "a-1"})
        assert first.status_code == 201
        assert client.get("/v1/queue").status_code == 200  # a pooled connection to lose

        own_cluster.stop()
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["status"] == "unavailable"
        assert health.headers["Retry-After"]
        key = {"Idempotency-Key": "b-1-queued"}
        body = {"caller_number": "601", "external_id": "b-1"}
        answers = [
            client.post("/v1/calls/queued", json=body, headers=key),
            client.post("/v1/calls/held", json={"external_id": "a-1"}),
            client.get("/v1/queue"),
            client.get("/v1/calls/1"),
            client.get("/v1/customers/by-phone", params={"number": "600"}),
            client.post("/v1/agents/maria/state", json={"state": "available"}),
        ]
        for answer in answers:
            assert answer.status_code == 503, (answer.request.url, answer.text)
            assert int(answer.headers["Retry-After"]) >= 1
            assert "database unavailable" in answer.json()["detail"]

        own_cluster.start()
        assert client.get("/healthz").status_code == 200
        retried = client.post("/v1/calls/queued", json=body, headers=key)
        assert retried.status_code == 201, retried.text
        again = client.post("/v1/calls/queued", json=body, headers=key)
        assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
        waiting = client.get("/v1/queue").json()["waiting"]
        assert [w["caller_number"] for w in waiting] == ["600", "601"]
