"""A trace in the browser: a 4-step donation trace anchored on two chains shows as a timeline;
without its middle step the timeline shows the gap and the verdict fails. An ML run from
``examples/`` shows as its report."""

from __future__ import annotations

import json
import os
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bctrace import Tracer
from bctrace.api import to_0x

from .conftest import _signer_env, chain_table, deployed_chain, run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.integration

STEPS = [("donor", {"amount_eur": 50, "to": "clean water fund"}), ("charity", {"received_eur": 50}),
         ("supplier", {"delivered": "water filters", "count": 10}), ("clinic", {"installed": 10, "village": "Ndola"})]


@pytest.fixture(scope="module")
def donation(tmp_path_factory):
    """Four steps of one trace, each anchored on two live anvil chains (ids 31337 and 31338)."""
    env, address = _signer_env()
    chains = [(chain_id, *deployed_chain(chain_id, env, address)) for chain_id in (31337, 31338)]
    folder = tmp_path_factory.mktemp("donation")
    (folder / "bctrace.toml").write_text('default_chains = ["first", "second"]\nbundle_dir = "bundles"\n' + "".join(
        f"[chains.{name}]\n{chain_table(node, chain_id, contract, env)}" for name, (chain_id, node, contract) in zip(("first", "second"), chains, strict=True)))
    trace, digests = None, []
    with Tracer.from_config(folder / "bctrace.toml") as tracer:  # one batch, anchored by one flush on both chains
        for author, body in STEPS:
            step = tracer.record("donation-step", body, trace=trace, author=author)
            trace, digests = step.record.trace, [*digests, to_0x(step.digest)]
        tracer.flush()
    bundles = [next(folder.rglob(f"{digest}.bctrace.json")) for digest in digests]
    try:
        yield folder, trace, bundles, "&".join(f"rpc={chain_id}={node.url}" for chain_id, node, _ in chains)
    finally:
        for _, node, _ in chains:
            node.stop()
        os.environ.pop(env, None)


def test_donation_trace_shows_as_a_timeline_and_a_missing_step_as_a_gap(donation, served, verifier):
    _, trace, bundles, rpcs = donation
    verifier.open(f"{served}?{rpcs}")
    verdict = verifier.check(*bundles)
    assert verdict.get_attribute("data-status") == "verified", verifier.text()
    timeline = verifier.page.locator(f"[data-testid=timeline][data-trace='{trace}']")
    steps = timeline.locator("[data-testid=step]")
    assert [steps.nth(i).get_attribute("data-seq") for i in range(steps.count())] == ["0", "1", "2", "3"]
    assert [steps.nth(i).get_attribute("data-link") for i in range(4)] == ["start", "linked", "linked", "linked"]
    assert "by supplier" in steps.nth(2).inner_text()
    assert verifier.page.locator("[data-testid=anchor][data-status=verified]").count() == 8  # 4 steps x 2 chains
    verifier.screenshot("timeline")

    verdict = verifier.check(bundles[0], bundles[1], bundles[3])
    assert verdict.get_attribute("data-status") == "failed"
    assert "step 2 is missing" in verdict.inner_text()
    gap = timeline.locator("[data-testid=gap]")
    assert gap.count() == 1 and "step 2 is missing" in gap.inner_text()
    assert verifier.serious_violations() == []
    verifier.screenshot("timeline-gap")


@pytest.mark.slow  # trains the example's random forest under `bctrace ml run` (about 20 s on a loaded 2-core machine)
def test_ml_run_from_examples_shows_as_its_report(serve_process, verifier, tmp_path):
    project = tmp_path / "examples"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns(".bctrace", "__pycache__", "*.joblib", "metrics.json"))
    run_cli(project, "ml", "run", "--seed", "1", "--input", "data/train.csv:train", "--input", "data/test.csv:test",
            "--model", "model.joblib", "--metrics", "metrics.json", "--", sys.executable, "sklearn_train.py")
    steps = sorted(project.glob(".bctrace/runs/*/*.bctrace.json"))
    assert [p.name for p in steps] == ["000-start.bctrace.json", "001-end.bctrace.json"]
    anchor = json.loads(steps[0].read_text())["anchors"][0]
    end = json.loads(steps[1].read_text())["record"]["body"]
    head = json.loads(steps[1].read_text())["anchors"][0]["block_hash"]
    url = serve_process(cwd=project)
    verdict = verifier.load(f"{url}runs/{steps[0].parent.name}?trust={anchor['chain_id']}={head}")
    assert verdict.get_attribute("data-status") == "verified", verifier.text()
    report = verifier.page.locator("[data-testid=ml-run]")
    assert report.count() == 1
    assert "sklearn_train.py" in report.locator("[data-testid=run-code]").inner_text()
    assert "data/train.csv (train)" in report.locator("[data-testid=run-data]").inner_text()
    assert report.locator("[data-testid=run-seed]").inner_text() == "1"
    assert f"test_accuracy = {end['metrics']['test_accuracy']}" in report.locator("[data-testid=run-metrics]").inner_text()
    assert f"score {end['checklist']['score']}" in report.locator("[data-testid=run-checklist]").inner_text()
    assert verifier.serious_violations() == []
    verifier.screenshot("ml-run")


def test_serve_lists_the_projects_traces_and_shows_one_as_a_verified_timeline(donation, serve_process, verifier):
    folder, trace, bundles, rpcs = donation
    url = serve_process(cwd=folder)
    for query in ("", "donation-step", trace[:6]):
        with urllib.request.urlopen(f"{url}traces?q={query}", timeout=10) as response:
            listing = response.read().decode()
        assert trace in listing and "4 (4 anchored)" in listing, query
    with urllib.request.urlopen(f"{url}traces?q=supply-step", timeout=10) as response:
        assert trace not in response.read().decode()
    with urllib.request.urlopen(f"{url}traces/{trace}/bundles", timeout=10) as response:
        assert json.loads(response.read()) == [f"/bundles/{json.loads(b.read_text())['digest']}" for b in bundles]
    digest = json.loads(bundles[2].read_text())["digest"]
    with urllib.request.urlopen(f"{url}bundles/{digest}", timeout=10) as response:
        assert json.loads(response.read()) == json.loads(bundles[2].read_text())
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{url}bundles/0x{'00' * 32}", timeout=10)
    assert missing.value.code == 404

    verdict = verifier.load(f"{url}traces/{trace}?{rpcs}")
    assert verdict.get_attribute("data-status") == "verified", verifier.text()
    assert verifier.page.locator("[data-testid=timeline] [data-testid=step]").count() == 4
    verifier.page.goto(f"{url}traces")
    assert verifier.serious_violations() == []
