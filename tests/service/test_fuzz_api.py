"""The live service's /v1 API fuzzed from its own OpenAPI document with the schemathesis CLI
(``schemathesis run``, every check): no server error, and every response matches the document
(status listed, body schema, content type), also for invalid input schemathesis makes up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from serviceproc import make_token

pytestmark = pytest.mark.slow


def test_schemathesis_finds_no_server_error_and_no_schema_violation(pg_url, start_service, tmp_path):
    (tmp_path / "bctrace.toml").write_text('[chains.local]\nbackend = "local"\n')
    token = make_token(tmp_path, pg_url, "fuzzer", "record", "read", "admin")
    service = start_service(tmp_path, pg_url, "--anchor-every", "2s", "--rate-limit", "0")
    run = subprocess.run(
        [str(Path(sys.executable).with_name("schemathesis")), "run", f"{service.url}/openapi.json", "--checks", "all",
         # Schema-valid but refused (422) is right here: a subject's sha256 format, surrogates in
         # strings and the like are checked beyond what the JSON Schema says, with one-line 4xx.
         "--exclude-checks", "positive_data_acceptance",
         "--header", f"Authorization: Bearer {token}", "--max-examples", "10", "--seed", "13", "--workers", "1",
         "--suppress-health-check", "all", "--request-timeout", "30", "--max-time", "45"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "Tested: 6" in run.stdout, run.stdout[-2000:]
