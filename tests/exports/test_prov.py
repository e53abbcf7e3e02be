"""W3C PROV of a trace, made with the ``prov`` package and read back by it from PROV-JSON and PROV-N."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prov.model import PROV_ATTR_GENERATED_ENTITY, PROV_ATTR_USED_ENTITY, ProvDerivation, ProvDocument

from bctrace.api import ProofBundle
from bctrace.exports.prov import trace_document


@pytest.mark.parametrize("serialization", ["json", "provn"])
def test_prov_of_a_trace_round_trips(donation_trace: list[Path], cli, project: Path, serialization: str) -> None:
    result = cli("export", *donation_trace, "--format", "prov", "--option", f"serialization={serialization}", "-o", "prov/", "--json")
    assert result.exit_code == 0, result.output
    [path] = map(Path, json.loads(result.stdout)["files"])
    assert path.name == "donation-1." + ("prov.json" if serialization == "json" else "provn")
    read = ProvDocument.deserialize(content=path.read_text(), format=serialization)
    assert read == trace_document([ProofBundle.read(p) for p in donation_trace])
    assert ProvDocument.deserialize(content=read.serialize(format="json"), format="json") == read


def test_prov_has_records_steps_agents_and_the_hash_chain(donation_trace: list[Path]) -> None:
    bundles = [ProofBundle.read(p) for p in donation_trace]
    doc = trace_document(bundles)
    ids = {str(r.identifier) for r in doc.get_records() if r.identifier is not None}
    for b in bundles:
        assert f"record:{b.digest}" in ids and f"step:{b.digest}" in ids
    assert {"agent:bctrace", "agent:NGO%20Lisbon"} <= ids
    derived = {(str(r.get_attribute(PROV_ATTR_GENERATED_ENTITY).pop()), str(r.get_attribute(PROV_ATTR_USED_ENTITY).pop()))
               for r in doc.get_records(ProvDerivation)}
    for earlier, later in zip(bundles, bundles[1:], strict=False):
        assert (f"record:{later.digest}", f"record:{earlier.digest}") in derived  # the hash chain
    anchor = bundles[0].anchors[0]
    assert (f"anchor:{anchor.chain_id}-{anchor.tx}", f"root:{bundles[0].merkle.root}") in derived
    assert any(i.startswith("sha256:") for i in ids)  # the receipt file


def test_prov_serialization_option_is_checked(donation_trace: list[Path], cli) -> None:
    result = cli("export", donation_trace[0], "--format", "prov", "--option", "serialization=turtle")
    assert result.exit_code == 2 and "use one of json, provn" in result.stderr
