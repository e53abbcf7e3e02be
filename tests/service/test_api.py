"""The /v1 API of a real service process (PostgreSQL outbox, local ledger): records and bare
digests come back as bundles that verify; bad input is a one-line 4xx that never reaches the
outbox; tokens, scopes and the OpenAPI document."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest

from bctrace import ProofBundle, Tracer
from serviceproc import SERVICE, ServiceProcess, auth, make_token, wait_for


@pytest.fixture(scope="module")
def api(pg_server, tmp_path_factory) -> Iterator[SimpleNamespace]:
    project = tmp_path_factory.mktemp("service")
    (project / "bctrace.toml").write_text('[chains.local]\nbackend = "local"\n')
    db = pg_server.database()
    tokens = {"alice": make_token(project, db, "alice", "record", "read"), "reader": make_token(project, db, "reader", "read"),
              "admin": make_token(project, db, "admin", "admin", "read")}
    service = ServiceProcess(project, db, "--anchor-every", "1h", "--rate-limit", "0").start()
    client = httpx.Client(base_url=service.url, timeout=60)
    try:
        yield SimpleNamespace(url=service.url, client=client, tokens=tokens, project=project, db=db, service=service)
    finally:
        client.close()
        # Graceful shutdown on SIGTERM: the anchoring thread is stopped, and the log says so.
        assert service.stop() == 0
        assert '"message": "service stopping: batch in flight finished"' in service.log.read_text()


def post(api, path: str, body, token: str = "alice", **kwargs) -> httpx.Response:
    content = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return api.client.post(path, content=content, headers={**auth(api.tokens[token]), "Content-Type": "application/json"}, **kwargs)


def anchored(api, digest: str) -> dict:
    """Ask for an anchor now (admin) and wait until the bundle is there."""
    assert api.client.post("/v1/anchor", headers=auth(api.tokens["admin"])).status_code == 202

    def ready():
        response = api.client.get(f"/v1/bundles/{digest}", headers=auth(api.tokens["alice"]))
        return response.json() if response.status_code == 200 else None

    return wait_for(ready, what=f"bundle of {digest}")


def pending(api) -> int:
    return api.client.get("/v1/status", headers=auth(api.tokens["reader"])).json()["pending"]


def test_records_come_back_as_bundles_that_verify_and_name_their_producer(api, tmp_path):
    one = post(api, "/v1/records", {"kind": "step", "body": {"loss": 0.5}})
    many = post(api, "/v1/records", {"records": [{"kind": "step", "body": {"i": i}, "trace": "run-1"} for i in range(3)]
                                     + [{"kind": "note", "author": "alice@lab"}]})
    assert one.status_code == many.status_code == 201
    digests = [r["digest"] for r in one.json()["records"] + many.json()["records"]]
    assert [r["seq"] for r in many.json()["records"][:3]] == [0, 1, 2]
    pending_now = api.client.get(f"/v1/bundles/{digests[0]}", headers=auth(api.tokens["reader"]))
    assert pending_now.status_code == 202 and pending_now.json()["status"] == "pending"
    assert pending_now.json()["expected_by"] > 0 and "retry-after" in pending_now.headers
    bundles = [anchored(api, d) for d in digests]
    assert [b["record"]["author"] for b in bundles] == ["alice"] * 4 + ["alice@lab"]
    with Tracer.from_config(api.project / "bctrace.toml") as tracer:
        for bundle in bundles:
            assert tracer.verify(ProofBundle.model_validate(bundle)).ok
    trace = api.client.get("/v1/traces/run-1", headers=auth(api.tokens["reader"])).json()
    assert [(s["seq"], s["digest"], s["status"]) for s in trace["records"]] == [(i, digests[1 + i], "anchored") for i in range(3)]


def test_a_bare_digest_gets_a_proof_that_joins_the_producers_own_record(api, tmp_path):
    """The content never leaves the producer: it sends the digest of its own record and joins the
    proof it gets back to that record, giving a bundle that verifies."""
    producer = tmp_path / "producer"
    producer.mkdir()
    with Tracer.from_config(cwd=producer) as local:
        rec = local.record("secret-step", {"private": "stays here"})
        stored, _, _ = local.outbox.find(rec.digest)
    response = post(api, "/v1/digests", {"digests": [rec.digest_hex]})
    assert response.status_code == 201 and response.json()["digests"] == [{"digest": rec.digest_hex, "status": "pending"}]
    again = post(api, "/v1/digests", {"digests": [rec.digest_hex]})
    assert again.json()["digests"][0]["status"] == "known"  # idempotent
    proof = anchored(api, rec.digest_hex)
    assert "record" not in proof
    bundle = ProofBundle.model_validate({**proof, "record": json.loads(stored.record_json)})
    with Tracer.from_config(api.project / "bctrace.toml") as tracer:
        assert tracer.verify(bundle).ok


BAD = [
    ("not JSON", b"{not json", 400, "not valid JSON"),
    ("NaN", b'{"kind": "x", "body": {"v": NaN}}', 400, "NaN"),
    ("wrong schema", b'{"kind": "x", "extra": 1}', 422, "extra"),
    ("empty kind", b'{"kind": ""}', 422, "kind"),
    ("0 for false", b'{"records": [{"kind": "x", "salt": 0}]}', 422, "salt"),  # found by schemathesis
    ("duplicate key", b'{"kind": "a", "kind": "b"}', 400, "kind"),
    ("not UTF-8", b'{"kind": "\xff"}', 400, "UTF-8"),
    ("10 MB", b'{"kind": "x", "body": {"v": "' + b"a" * (10 << 20) + b'"}}', 413, "limit"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_input_is_a_one_line_4xx_and_never_reaches_the_outbox(api, case):
    _, body, status, words = case
    before = pending(api)
    response = post(api, "/v1/records", body)
    assert response.status_code == status, response.text
    assert list(response.json()) == ["error"] and "\n" not in response.text and words in response.json()["error"]
    assert pending(api) == before


def test_tokens_and_scopes(api):
    record = {"kind": "x"}
    unknown = api.client.post("/v1/records", json=record, headers=auth("bct_not-a-token"))
    missing = api.client.post("/v1/records", json=record)
    assert unknown.status_code == missing.status_code == 401 and unknown.headers["www-authenticate"] == "Bearer"
    assert post(api, "/v1/records", record, token="reader").status_code == 403  # read scope only
    assert api.client.post("/v1/anchor", headers=auth(api.tokens["alice"])).status_code == 403  # not admin
    assert api.client.get("/v1/bundles/0x" + "00" * 32, headers=auth(api.tokens["reader"])).status_code == 404
    assert api.client.get("/v1/bundles/0x1234", headers=auth(api.tokens["reader"])).status_code == 400


def test_token_cli_prints_a_token_once_and_keeps_only_its_hash(api):
    run = subprocess.run([*SERVICE, "token", "create", "bob", "--db", api.db, "--scope", "read"], cwd=api.project,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    token = run.stdout.strip()
    assert api.client.get("/v1/status", headers=auth(token)).status_code == 200
    import psycopg

    with psycopg.connect(api.db) as conn:
        rows = conn.execute("SELECT hash FROM bctrace_tokens WHERE name = 'bob'").fetchall()
    assert rows == [(hashlib.sha256(token.encode()).digest(),)]
    again = subprocess.run([*SERVICE, "token", "create", "bob", "--db", api.db], cwd=api.project, capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "exists already" in again.stderr


def test_status_and_openapi(api):
    status = api.client.get("/v1/status", headers=auth(api.tokens["reader"])).json()
    assert status["worker"]["alive"] is True and status["worker"]["anchor_every"] == 3600
    assert "chains" in status and isinstance(status["pending"], int)
    doc = api.client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.") and "/v1/records" in doc["paths"]
