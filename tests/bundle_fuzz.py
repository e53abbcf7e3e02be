"""Shared by the bundle property and fuzz tests (unit and integration): JSON value strategies,
bundle mutations, and the oracle that a verifying bundle claims nothing the original did not."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


def ci(max_examples: int) -> settings:
    """Deterministic in CI: fixed derandomized examples, a bounded count, no example database."""
    return settings(derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                    max_examples=max_examples)


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e16, 1.2e18, 2.0**53, 1e21, 5e-324, -0.0, 123456789012345680000.0]),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, text),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=12,
)
bodies = st.dictionaries(text, json_values, max_size=5)


def leaves(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, (*path, i))
    else:
        yield path, value


def other_value(value):
    if isinstance(value, bool):
        return not value
    if value is None:
        return 0
    if isinstance(value, (int, float)):
        return 1 if value == 0 else (0 if value != 1 else 2)
    return value + "!"


KNOWN = {
    "merkle": ("format", "root", "proof"),
    "anchor": ("chain_id", "contract", "tx", "block", "timestamp", "block_hash", "chain_proof"),
    "chain_proof": ("format", "lines", "header", "account_proof", "storage_proof", "tx", "tx_index", "tx_proof"),
}


def claims_hold(mutated, original) -> bool:
    """Every claim the mutated bundle makes is one the original made: the same record, digest
    and root, and each anchor field it states (a left-out optional field claims nothing)."""
    m, o = meaning(mutated), meaning(original)
    if (m["record"], m["digest"], m["merkle"]["root"], m["merkle"]["proof"]) != (o["record"], o["digest"], o["merkle"]["root"], o["merkle"]["proof"]):
        return False
    return all(any(all(v is None or v == a.get(k) for k, v in b.items()) for a in o["anchors"]) for b in m["anchors"])


def meaning(data):
    """What a bundle claims, without labels (chain, backend) and keys readers ignore."""
    anchors = []
    for a in data.get("anchors", []):
        entry = {k: a.get(k) for k in KNOWN["anchor"]}
        if isinstance(entry["chain_proof"], dict):
            entry["chain_proof"] = {k: entry["chain_proof"].get(k) for k in KNOWN["chain_proof"]}
        anchors.append(entry)
    return {"record": data.get("record"), "digest": data.get("digest"),
            "merkle": {k: data.get("merkle", {}).get(k) for k in KNOWN["merkle"]}, "anchors": anchors}


INSERTS = ['"', "\\ud800", "[", "]", "{", "}", ",", ":", "1e999", "NaN", "0", "-", '"x":1,', "9" * 30, " ", "\u0000", "null"]


@st.composite
def mutated_text(draw, original: str) -> str:
    kind = draw(st.sampled_from(["replace", "delete", "insert", "value"]))
    if kind == "value":
        data = json.loads(original)
        paths = list(leaves(data))
        path, value = draw(st.sampled_from(paths))
        replacement = draw(st.one_of(st.just(other_value(value)), json_values, st.just([value]), st.just({"v": value})))
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = replacement
        return json.dumps(data)
    at = draw(st.integers(0, len(original) - 1))
    if kind == "delete":
        return original[:at] + original[at + draw(st.integers(1, 40)):]
    piece = draw(st.sampled_from(INSERTS)) if kind == "insert" else draw(st.sampled_from("0123456789abcdef\"{}[],:x "))
    return original[:at] + piece + original[at + (1 if kind == "replace" else 0):]


def fuzz_once(cli, target: Path, original: str, text: str, how: list[str]) -> None:
    target.write_text(text, encoding="utf-8", errors="surrogatepass")
    for command in (["verify", target, *how], ["show", target]):
        result = cli(*command)
        assert result.exit_code in (0, 1, 2, 3), (command, result.output)
        assert "Traceback" not in result.output
        if result.exit_code == 0 and command[0] == "verify":
            assert claims_hold(json.loads(text), json.loads(original)), text


