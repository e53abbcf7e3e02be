"""Per-token rate limits and CORS (closed unless origins are named), in-process on the service
app with the default SQLite outbox (Starlette's TestClient, no network)."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from bctrace._internal.config import load_config
from bctrace.service.api import Limits
from bctrace.service.app import ServiceOptions, build_app
from bctrace.service.tokens import TokenStore


def app_with(tmp_path: Path, **options):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "bctrace.toml").write_text('[chains.local]\nbackend = "local"\n')
    config = load_config(tmp_path / "bctrace.toml")
    store = TokenStore(config.state_dir)
    token = store.create("alice", ["record", "read"])
    store.close()
    return build_app(config, ServiceOptions(anchor_every=3600, **options)), {"Authorization": f"Bearer {token}"}


def test_a_token_over_its_rate_gets_429_with_retry_after_and_nothing_stored(tmp_path):
    app, headers = app_with(tmp_path, limits=Limits(rate=0.1))  # one request, then one per 10 s
    with TestClient(app) as client:
        codes = [client.post("/v1/records", json={"kind": "x", "body": {"i": i}}, headers=headers).status_code for i in range(4)]
        assert codes == [201, 429, 429, 429]
        refused = client.post("/v1/records", json={"kind": "x"}, headers=headers)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert refused.json() == {"error": "rate limit of 0.1 requests/s for 'alice' exceeded"}
        stored = codes.count(201)
    from bctrace import Tracer

    with Tracer.from_config(tmp_path / "bctrace.toml") as tracer:
        assert tracer.outbox.pending_count() == stored  # refused requests never reached the outbox


def test_cors_is_closed_by_default_and_open_only_to_named_origins(tmp_path):
    closed, headers = app_with(tmp_path / "a")
    preflight = {"Origin": "https://lab.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    with TestClient(closed) as client:
        response = client.options("/v1/records", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
        assert "access-control-allow-origin" not in client.get("/v1/status", headers={**headers, "Origin": "https://lab.example"}).headers
    opened, headers = app_with(tmp_path / "b", cors_origins=["https://lab.example"])
    with TestClient(opened) as client:
        assert client.options("/v1/records", headers=preflight).headers["access-control-allow-origin"] == "https://lab.example"
        other = client.options("/v1/records", headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
