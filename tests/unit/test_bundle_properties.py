"""Property tests (hypothesis, derandomized and bounded for CI):

- every record bctrace accepts goes record -> outbox -> bundle -> re-serialised by another JSON
  implementation (JavaScript's JSON.parse/JSON.stringify, and Python's json with other
  formatting) -> verify, exit 0; every single-value change of such a record fails (exit 1);
- a value no IEEE double holds is refused at record() time, and nothing is written;
- fuzzing: mutated bundles through verify and show never crash or hang, exit with a documented
  code, and never verify when their meaning differs from the original.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from bundle_fuzz import bodies, ci, fuzz_once, leaves, mutated_text, other_value
from hypothesis import given
from hypothesis import strategies as st

from bctrace import Tracer
from bctrace.errors import UsageError


def exact_as_double(value) -> bool:
    """Independent oracle: does every number in ``value`` read back as itself from JSON?"""
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return True
    if isinstance(value, int):
        return abs(value) <= 2**53 or Decimal(value) == Decimal(repr(float(value)))
    items = value.values() if isinstance(value, dict) else value
    return all(exact_as_double(v) for v in items)


def node_reserialise(paths: list[Path]) -> None:
    node = shutil.which("node")
    assert node, "node is needed (scripts/test installs it)"
    script = ("const fs=require('fs');for(const p of process.argv.slice(1)){"
              "fs.writeFileSync(p, JSON.stringify(JSON.parse(fs.readFileSync(p,'utf8'))))}")
    subprocess.run([node, "-e", script, *map(str, paths)], check=True)


@ci(8)
@given(st.lists(bodies, min_size=10, max_size=10))
def test_records_round_trip_through_other_json_tools_and_every_change_fails(project_dir, cli, batch):
    accepted = []
    with Tracer.from_config() as tracer:
        for body in batch:
            before = tracer.outbox.pending_count()
            try:
                rec = tracer.record("prop", body, bundle_dir=project_dir / "bundles")
            except UsageError:
                assert not exact_as_double(body)
                assert tracer.outbox.pending_count() == before  # refused: nothing written
                continue
            assert exact_as_double(body)
            accepted.append(rec)
        tracer.flush()
    paths = [r.bundle_path for r in accepted]
    if not paths:
        return
    js = [shutil.copy(p, p.with_name("js-" + p.name)) for p in paths]
    node_reserialise(js)
    py = []
    for p in paths:
        q = p.with_name("py-" + p.name)
        q.write_text(json.dumps(json.loads(p.read_text()), sort_keys=True, separators=(",", ":")))
        py.append(q)
    for variant in (paths, js, py):  # separately: copies of one step would look like a broken trace
        result = cli("verify", *variant)
        assert result.exit_code == 0, result.output
    for p in paths:
        data = json.loads(p.read_text())
        for leaf, value in leaves(data["record"]):
            edited = json.loads(p.read_text())
            target = edited["record"]
            for key in leaf[:-1]:
                target = target[key]
            target[leaf[-1]] = other_value(value)
            out = p.with_name("edited.bctrace.json")
            out.write_text(json.dumps(edited))
            assert cli("verify", out).exit_code == 1, (leaf, value)
            break  # one change per bundle keeps the run bounded; leaves differ across bundles


@pytest.fixture
def project_dir(project):
    return project


# -- fuzzing ----------------------------------------------------------------------------------

@pytest.fixture
def local_bundle(project, cli):
    result = cli("record", "--kind", "fuzz", "--body", '{"n": [1, 2.5, "x"], "big": 1e16}', "--flush", "--json")
    path = project / json.loads(result.stdout)["bundle"]
    data = json.loads(path.read_text())
    head = f"{data['anchors'][0]['chain_id']}={data['anchors'][0]['tx']}"
    return path, path.read_text(), head


@ci(300)
@given(data=st.data())
def test_fuzzed_local_bundles(local_bundle, cli, tmp_path, data):
    path, original, head = local_bundle
    text = data.draw(mutated_text(original))
    fuzz_once(cli, tmp_path / "fuzz.bctrace.json", original, text, data.draw(st.sampled_from([[], ["--trust-block", head]])))
