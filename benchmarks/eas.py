"""Gas of the Ethereum Attestation Service's way, one attestation per record, beside bctrace's one
anchor per batch, on the same anvil.

The real contracts: ``SchemaRegistry`` and ``EAS`` as compiled and published by the EAS team in
the npm package ``@ethereum-attestation-service/eas-contracts`` (its ``artifacts/``, pinned in
package.json), deployed unchanged. A schema ``bytes32 digest`` (no resolver, not revocable) holds
each record's digest, the least an attestation of a record can carry. Gas is each mined
transaction's ``gasUsed``: ``attest`` once per record (one transaction each, as the naive anchoring
baseline), and ``multiAttest`` of N records in as few transactions as the block gas limit allows.
"""

from __future__ import annotations

import json
import os
import statistics
from typing import Any

from .chain import Chain
from .measure import ROOT, Results, Row

PACKAGE = ROOT / "node_modules" / "@ethereum-attestation-service" / "eas-contracts"
SCHEMA = "bytes32 digest"
ZERO = "0x" + "00" * 20


def _artifact(name: str) -> dict[str, Any]:
    path = PACKAGE / "artifacts" / "contracts" / f"{name}.sol" / f"{name}.json"
    if not path.is_file():
        raise SystemExit(f"{path} is missing: run `npm install` (package.json pins @ethereum-attestation-service/eas-contracts)")
    return json.loads(path.read_text())


class Eas:
    """SchemaRegistry + EAS deployed from the published artifacts, and the schema registered."""

    def __init__(self, chain: Chain) -> None:
        from eth_abi import encode

        self.chain = chain
        registry = _artifact("SchemaRegistry")
        eas = _artifact("EAS")
        self.version = json.loads((PACKAGE / "package.json").read_text())["version"]
        self.registry = self._deploy(registry["bytecode"], registry["abi"], b"", "SchemaRegistry")
        self.eas = self._deploy(eas["bytecode"], eas["abi"], encode(["address"], [self.registry.address]), "EAS")
        register = self.registry.functions.register(SCHEMA, ZERO, False)
        self.schema = register.call({"from": chain.account.address})
        self._send(self.registry.address, register, "register the schema")

    def _deploy(self, bytecode: str, abi: list[Any], args: bytes, what: str) -> Any:
        receipt = self.chain.client.transact(bytes.fromhex(bytecode.removeprefix("0x")) + args, to=None, what=f"deployment of {what}")
        return self.chain.w3.eth.contract(address=receipt["contractAddress"], abi=abi)

    def _send(self, to: str, call: Any, what: str) -> int:
        data = bytes.fromhex(call._encode_transaction_data().removeprefix("0x"))
        return int(self.chain.client.transact(data, to=to, what=what)["gasUsed"])

    def _request(self, digest: bytes) -> tuple[Any, ...]:
        from eth_abi import encode

        # AttestationRequestData: recipient, expirationTime, revocable, refUID, data, value
        return (ZERO, 0, False, b"\0" * 32, encode(["bytes32"], [digest]), 0)

    def attest(self, digest: bytes) -> int:
        """Gas of one ``attest`` transaction carrying one record's digest."""
        call = self.eas.functions.attest((self.schema, self._request(digest)))
        return self._send(self.eas.address, call, "EAS attest")

    def multi_attest(self, digests: list[bytes]) -> int:
        """Gas of one ``multiAttest`` transaction carrying every digest."""
        call = self.eas.functions.multiAttest([(self.schema, [self._request(d) for d in digests])])
        return self._send(self.eas.address, call, "EAS multiAttest")


def gas(res: Results, chain: Chain, bctrace_gas: dict[int, int], singles: int, largest: int) -> None:
    """EAS gas per record at each of bctrace's batch sizes, beside bctrace's measured gas.

    ``attest`` is sent ``singles`` times (its median is the one-tx-per-record cost);
    ``multiAttest`` is sent for N records at each size up to ``largest``, in chunks that fit a
    block; above ``largest`` the per-record gas of the largest measured N stands in (each
    attestation stores its own record, so the gas grows linearly: written in the row's note)."""
    eas = Eas(chain)
    single = statistics.median(eas.attest(os.urandom(32)) for _ in range(singles))
    block_limit = int(chain.w3.eth.get_block("latest")["gasLimit"])
    chunk = max(1, int(block_limit * 0.8 // single))
    measured: dict[int, float] = {}
    for n in sorted(bctrace_gas):
        if n > largest:
            continue
        digests = [os.urandom(32) for _ in range(n)]
        total = sum(eas.multi_attest(digests[i : i + chunk]) for i in range(0, n, chunk))
        measured[n] = total / n
    source = f"EAS {eas.version} (the published npm artifacts) on anvil, schema '{SCHEMA}', gasUsed of mined transactions"
    res.add(Row("gas", "gas per record, bctrace batch of 1", bctrace_gas[min(bctrace_gas)] / min(bctrace_gas), "gas",
                "EAS attest, one tx per record", single, higher_is_better=False, note=f"{source}; median of {singles} attest txs"))
    top = max(measured)
    for n, theirs in sorted(bctrace_gas.items()):
        per = measured.get(n, measured[top])
        how = (f"multiAttest of {n:,} in {-(-n // chunk)} tx(s) of at most {chunk:,}" if n in measured
               else f"not sent: per-record gas of the multiAttest of {top:,} (EAS gas grows linearly with N)")
        res.add(Row("gas", f"gas per record, bctrace batch of {n:,}", theirs / n, "gas", f"EAS multiAttest, {n:,} records", per,
                    higher_is_better=False, note=f"{how}; {source}"))
        if n in measured:  # the plot shows only what was sent
            res.point("gas-per-record", "EAS multiAttest (one attestation per record)", n, per)
