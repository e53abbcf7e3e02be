"""Client mode (``[service]`` in the config): records stay in the local outbox (the spool) and
only their digests go to the service; with the service stopped nothing is lost, and once it is
back ``fetch-proofs`` delivers the spooled records and writes bundles that verify."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from bctrace import ProofBundle, Tracer
from serviceproc import auth, make_token, wait_for

pytestmark = pytest.mark.slow


def test_a_client_spools_while_the_service_is_down_and_delivers_when_it_is_back(pg_url, start_service, tmp_path, monkeypatch, cli):
    server = tmp_path / "server"
    server.mkdir()
    (server / "bctrace.toml").write_text('[chains.local]\nbackend = "local"\n')
    token = make_token(server, pg_url, "lab-node-1", "record", "read")
    admin = make_token(server, pg_url, "ops", "admin")
    service = start_service(server, pg_url, "--anchor-every", "1h")
    port = service.url.rsplit(":", 1)[1]

    client = tmp_path / "client"
    client.mkdir()
    monkeypatch.setenv("LAB_TOKEN", token)
    (client / "bctrace.toml").write_text(f'[service]\nurl = "{service.url}"\ntoken = "env:LAB_TOKEN"\n')
    monkeypatch.chdir(client)

    with Tracer.from_config(client / "bctrace.toml") as tracer:
        trace = tracer.trace("run-7")
        before = [trace.record("epoch", {"i": i}) for i in range(3)]
        assert tracer.service.awaiting() == 3 and tracer.outbox.pending_count() == 0  # delivered at once
        service.stop()
        during = [trace.record("epoch", {"i": i}) for i in range(3, 6)]  # the service is down: spooled
        undelivered = tracer.outbox.pending_count() + sum(len(list(tracer.outbox.batch_records(b.id))) for b in tracer.outbox.open_batches())
        assert undelivered == 3 and len(tracer.outbox.trace_digests("run-7")) == 6
        down = tracer.fetch_proofs()
        assert down.bundles == [] and any("stay in the local outbox" in n for n in down.notes)

    restarted = start_service(server, pg_url, "--anchor-every", "1h", "--port", port)
    first = cli("fetch-proofs", "--json")  # delivers the spooled records; nothing is anchored yet
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["bundles"] == [], first.output
    assert httpx.post(f"{restarted.url}/v1/anchor", headers=auth(admin), timeout=30).status_code == 202
    wait_for(lambda: restarted.status(token)["pending"] == 0 and restarted.status(token)["worker"]["batches_anchored"] >= 1,
             what="the service to anchor")
    second = cli("fetch-proofs", "--json")
    assert second.exit_code == 0, second.output
    written = [Path(p) for p in json.loads(second.stdout)["bundles"]]
    expected = {r.digest_hex for r in before + during}
    assert {p.name.split(".")[0] for p in written} == expected and len(written) == 6, (first.output, second.output)
    with Tracer.from_config(server / "bctrace.toml") as verifier:  # the service's chain (local ledger)
        for path in written:
            bundle = ProofBundle.model_validate_json(path.read_text())
            assert bundle.record["trace"] == "run-7"
            assert verifier.verify(bundle).ok
    third = cli("fetch-proofs", "--json")
    assert json.loads(third.stdout)["bundles"] == []  # nothing awaits a proof any more
