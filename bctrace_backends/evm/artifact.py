"""The committed TraceRegistry artifact (ABI, bytecode) and what can be derived from it.

Loaded from package data, so users need no Solidity compiler (``contracts/compile.py`` rebuilds
it byte for byte). Nothing here imports web3: selectors and topics are plain keccak.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from bctrace.api import keccak256


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("artifacts/TraceRegistry.json").read_text(encoding="utf-8")
    return json.loads(text)


def abi() -> list[dict[str, Any]]:
    return load()["abi"]


def bytecode() -> bytes:
    return bytes.fromhex(load()["bytecode"][2:])


def _signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(i['type'] for i in entry['inputs'])})"


def event_topic(name: str) -> bytes:
    """topic0 of an event, e.g. ``Anchored(bytes32,address)``."""
    for entry in abi():
        if entry["type"] == "event" and entry["name"] == name:
            return keccak256(_signature(entry).encode())
    raise KeyError(name)


def custom_errors() -> dict[bytes, dict[str, Any]]:
    """4-byte selector -> ABI entry of each custom error the registry can revert with."""
    return {keccak256(_signature(e).encode())[:4]: e for e in abi() if e["type"] == "error"}


def _masked(code: bytes) -> bytes:
    """Runtime code with the immutable slots (the ``restricted`` flag) zeroed."""
    out = bytearray(code)
    for refs in load().get("immutableReferences", {}).values():
        for ref in refs:
            out[ref["start"] : ref["start"] + ref["length"]] = bytes(ref["length"])
    return bytes(out)


def is_registry_code(code: bytes) -> bool:
    """True when ``code`` is this TraceRegistry's runtime code, whatever its deploy-time flag."""
    expected = bytes.fromhex(load()["deployedBytecode"][2:])
    return len(code) == len(expected) and _masked(code) == _masked(expected)
