"""``EvmBackend``: anchors Merkle roots in a TraceRegistry on any EVM chain over JSON-RPC.

Why these steps: ``anchor`` first looks the root up (idempotent after a crash or a timed-out
flush whose transaction was mined after all), then sends one ``anchor(root)`` transaction and
builds the receipt from what the chain stored, so ``anchor`` and a later ``lookup`` agree exactly;
it then adds the anchor's chain proof (:mod:`.chainproof`). ``lookup`` is one view call
(``anchors(root)``), one ``eth_getLogs`` restricted to the single block the registry names, and
that block's header (its hash and own timestamp), which works on any node, however long the chain.
Verification looks a root up in the contract the bundle names, not the configured one.
Web3 is imported only when a chain is first used (through :mod:`.client`).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from bctrace.api import AnchorReceipt, BackendConfig, ChainBackend, redact_url, to_0x
from bctrace.errors import AnchorMissing, ChainMisconfigured, ClaimMismatch, Reverted, UsageError, one_line

from . import artifact
from .config import EvmConfig

if TYPE_CHECKING:
    from web3.contract import Contract

    from .client import EvmClient, TxQuote


def format_wei(wei: int, unit: str = "ETH", decimals: int = 18) -> str:
    """``46012000000000`` -> ``"0.000046012 ETH"``: exact (no float), trailing zeros dropped."""
    text = format(Decimal(wei) / Decimal(10**decimals), "f")
    return f"{text.rstrip('0').rstrip('.') if '.' in text else text} {unit}"


@dataclass(frozen=True)
class AnchorFee:
    """The expected cost of one anchor, in wei, split the way the chain charges it.

    ``gas × gas_price`` is the execution fee (on an L2: the L2 part); rollups add an L1 data fee
    (and OP-stack chains after Isthmus an operator fee) on top.
    """

    gas: int
    gas_price: int
    l1_data_fee: int = 0
    operator_fee: int = 0
    layered: bool = False
    """An L2: show the L2 execution fee and the L1 data fee separately."""
    details: dict[str, Any] = field(default_factory=dict)
    """Family-specific figures shown as they are (oracle mode, L1 gas units)."""

    @property
    def execution_fee(self) -> int:
        return self.gas * self.gas_price

    @property
    def total(self) -> int:
        return self.execution_fee + self.l1_data_fee + self.operator_fee

    def display(self) -> dict[str, Any]:
        """For ``bctrace chains --estimate``: amounts as exact ETH strings, gas as an integer."""
        shown: dict[str, Any] = {"gas": self.gas, "gas_price": format_wei(self.gas_price, "gwei", 9)}
        if self.layered:
            shown["l2_execution_fee"] = format_wei(self.execution_fee)
            shown["l1_data_fee"] = format_wei(self.l1_data_fee)
            if self.operator_fee:
                shown["operator_fee"] = format_wei(self.operator_fee)
        shown.update(self.details)
        shown["total"] = format_wei(self.total)
        return shown


FUNDED_ANCHORS = 5
"""A trace's account is topped up to pay this many anchors at the current price."""


class EvmBackend(ChainBackend):
    name = "evm"
    config_model: ClassVar[type[BackendConfig]] = EvmConfig
    config: EvmConfig

    deploys_restricted: ClassVar[bool] = False
    """``bctrace deploy`` turns the registry's writer allowlist on (permissioned networks)."""
    finality: ClassVar[str] = "the receipt's block has `confirmations` blocks on top (preset default, else 1)"
    """What a confirmed anchor means on this family of chains (``bctrace chains``, docs)."""

    def __init__(self, chain: str, config: BackendConfig, *, state_dir: Path) -> None:
        super().__init__(chain, config, state_dir=state_dir)
        self._client: EvmClient | None = None
        self._registry: Contract | None = None
        self._claimed: dict[str, Contract] = {}
        """Registries named by bundles (verification), by address, code already checked."""

    @property
    def client(self) -> EvmClient:
        if self._client is None:
            try:
                from .client import EvmClient
            except ImportError as err:
                raise ChainMisconfigured(
                    self.chain, f"the {self.name} backend needs web3, which is not installed ({err.name}): pip install 'bctrace[evm]'"
                ) from err
            self._client = EvmClient(self.chain, self.config, lock_dir=self.state_dir / "locks")
        return self._client

    @property
    def chain_id(self) -> int:
        self.client.connect()  # checks eth_chainId against the config
        return self.config.required_chain_id

    @classmethod
    def from_endpoint(cls, chain: str, url: str, receipt: AnchorReceipt, *, state_dir: Path) -> ChainBackend:
        """Ask the node at ``url`` about ``receipt``: its chain id must be the receipt's, and the
        registry at the receipt's contract address must hold TraceRegistry code."""
        from pydantic import ValidationError

        table = {"backend": cls.name, "rpc_url": url, "chain_id": receipt.chain_id}
        try:  # the contract is looked up where the bundle claims: a malformed one fails the check
            config = cls.config_model.model_validate({**table, "contract": receipt.contract})
        except ValidationError:
            try:
                config = cls.config_model.model_validate(table)
            except ValidationError as err:
                raise UsageError(one_line(err.errors()[0]["msg"])) from None
        return cls(chain, config, state_dir=state_dir)

    def quote_anchor(self, root: bytes | None = None) -> TxQuote:
        """The anchor transaction of ``root`` (default: a random root, as real roots look) with
        the node's gas estimate and the price per gas it would pay now."""
        registry = self.registry()
        data = bytes.fromhex(registry.encode_abi("anchor", args=[root or os.urandom(32)])[2:])
        return self.client.quote(data, to=registry.address, what="an anchor")

    def anchor_fee(self, root: bytes | None = None) -> AnchorFee:
        """The expected cost of one anchor now; chain families override this with their fee model."""
        quote = self.quote_anchor(root)
        return AnchorFee(gas=quote.gas, gas_price=quote.price)

    def estimate_anchor_cost(self) -> dict[str, Any] | None:
        return self.anchor_fee().display()

    def registry(self) -> Contract:
        """The registry contract, after checking that the address holds TraceRegistry code."""
        if self._registry is None:
            address = self.config.contract
            if not address:
                raise ChainMisconfigured(self.chain, f"no contract configured: run `bctrace deploy --chain {self.chain}` and add the line it prints")
            code = self.client.code(address)
            if not code:
                raise ChainMisconfigured(self.chain, f"no contract at {address} on chain id {self.config.chain_id}")
            if not artifact.is_registry_code(code):
                raise ChainMisconfigured(self.chain, f"the contract at {address} is not a bctrace TraceRegistry")
            from web3 import Web3

            self._registry = self.client.w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifact.abi())
        return self._registry

    def registry_at(self, address: str) -> Contract:
        """The registry at an address a bundle claims; raises :class:`ClaimMismatch` (the bundle's
        claim is false) when the address is malformed or holds no TraceRegistry code."""
        if address not in self._claimed:
            from web3 import Web3

            try:
                checksummed = Web3.to_checksum_address(address)
            except ValueError:
                raise ClaimMismatch("contract", f"{address[:60]!r} is not an address") from None
            code = self.client.code(checksummed)
            if not code:
                raise ClaimMismatch("contract", f"no contract at {address} on chain id {self.config.chain_id}")
            if not artifact.is_registry_code(code):
                raise ClaimMismatch("contract", f"the contract at {address} is not a bctrace TraceRegistry")
            self._claimed[address] = self.client.w3.eth.contract(address=checksummed, abi=artifact.abi())
        return self._claimed[address]

    def served_chain_id(self) -> int:
        return self.client.served_chain_id()

    def find_claimed(self, root: bytes, claim: AnchorReceipt | None) -> AnchorReceipt | None:
        if claim is None or not claim.contract:
            return self.lookup(root)
        registry = self.registry_at(claim.contract)
        found = self._lookup_in(registry, root)
        claimed_sender = (claim.model_extra or {}).get("sender")
        if found is not None and claimed_sender is not None:  # one address per trace: who sent it
            sender = self._sender_of(registry, root)
            if sender.lower() != str(claimed_sender).lower():
                raise ClaimMismatch("sender", f"the registry says root {to_0x(root)} was anchored by {sender}, the bundle says {claimed_sender}")
        return found

    @classmethod
    def check_chain_proof(cls, anchor: AnchorReceipt, root: bytes, trusted: Collection[bytes]) -> None:
        from .chainproof import check

        check(anchor, root, trusted)

    def anchor(self, root: bytes) -> AnchorReceipt:
        return self._anchor_from(self.client, root)  # self.client first: the one-line error without web3

    @property
    def anchors_per_trace(self) -> bool:
        return bool(self.config.trace_seed)

    def anchor_trace(self, root: bytes, trace: str) -> AnchorReceipt:
        """Send the anchor from the trace's own account (funded from the main signer when it
        cannot pay); the receipt names that ``sender``, which verification checks on chain."""
        from .client import EvmClient
        from .trace_accounts import trace_account, trace_path

        if not self.anchors_per_trace:
            return self.anchor(root)
        account = trace_account(self.chain, self.config, trace)
        client = EvmClient(self.chain, self.config, lock_dir=self.state_dir / "locks", account=account)
        try:
            receipt = self._anchor_from(client, root, fund=trace)
        finally:
            client.close()
        sender = self._sender_of(self.registry(), root)  # the chain's word: the root may have been anchored before
        return receipt.model_copy(update={"sender": sender, **({"sender_path": trace_path(trace)} if sender == account.address else {})})

    def _sender_of(self, registry: Contract, root: bytes) -> str:
        """Who anchored ``root`` first, as the registry stores it (EIP-55)."""
        with self.client.errors(f"looking up the sender of root {to_0x(root)}"):
            return str(registry.functions.anchors(root).call()[2])

    def _fund(self, client: EvmClient, data: bytes, to: str, trace: str) -> None:
        """Top the trace's account up from the main signer when it cannot pay for one anchor
        (to :data:`FUNDED_ANCHORS` anchors' worth at today's price); free-gas chains need nothing."""
        quote = client.quote(data, to=to, what=f"the anchor of trace {trace}")
        cost = int(quote.tx["gas"]) * int(quote.tx.get("maxFeePerGas", quote.tx.get("gasPrice", 0)))
        with client.errors(f"reading the balance of {client.sender}"):
            balance = int(client.w3.eth.get_balance(client.account.address))
        if balance < cost:
            self.client.transact(b"", to=client.sender, value=FUNDED_ANCHORS * cost - balance,
                                 what=f"funding of trace {trace}'s address {client.sender}")

    def _anchor_from(self, client: EvmClient, root: bytes, *, fund: str | None = None) -> AnchorReceipt:
        # Under the sender's lock, "not anchored yet" stays true until we have sent: two
        # processes resuming one batch never both pay for the same root.
        with client.sending():
            found = self.lookup(root)
            if found is not None:
                return self._with_chain_proof(found, root)
            registry = self.registry()
            data = bytes.fromhex(registry.encode_abi("anchor", args=[root])[2:])
            if fund is not None:
                self._fund(client, data, registry.address, fund)
            try:
                client.transact(data, to=registry.address, what=f"anchor of root {to_0x(root)}")
            except Reverted as err:
                if err.error_name != "AlreadyAnchored":  # someone else anchored it first: fine
                    raise
        found = self.lookup(root)
        if found is None:
            raise AnchorMissing(f"chain {self.chain!r}: the anchor transaction succeeded but the registry does not have root {to_0x(root)}")
        return self._with_chain_proof(found, root)

    def _with_chain_proof(self, receipt: AnchorReceipt, root: bytes) -> AnchorReceipt:
        """The receipt with its chain proof; without one (said once) where none would verify."""
        from .chainproof import NoChainProof, build

        try:
            proof = build(self.client, receipt, root)
        except NoChainProof as err:
            note = f"chain {self.chain!r}: its anchors carry no chain proof (verify them through a node): {err}"
            if note not in self.notes:
                self.notes.append(note)
            return receipt
        return receipt.model_copy(update={"chain_proof": proof})

    def lookup(self, root: bytes) -> AnchorReceipt | None:
        return self._lookup_in(self.registry(), root)

    def _lookup_in(self, registry: Contract, root: bytes) -> AnchorReceipt | None:
        with self.client.errors(f"looking up root {to_0x(root)}"):
            timestamp, block, _sender = registry.functions.anchors(root).call()
            if timestamp == 0:
                return None
            logs = self.client.w3.eth.get_logs(
                {
                    "address": registry.address,
                    "fromBlock": block,
                    "toBlock": block,
                    "topics": [to_0x(artifact.event_topic("Anchored")), to_0x(root)],
                }
            )
            header = self.client.w3.eth.get_block(block)
        if not logs:
            raise AnchorMissing(
                f"chain {self.chain!r}: the registry says root {to_0x(root)} was anchored in block {block}, but that block has no Anchored event for it"
            )
        block_hash = to_0x(header["hash"])
        if int(header["timestamp"]) != timestamp or to_0x(logs[0]["blockHash"]) != block_hash:
            raise AnchorMissing(
                f"chain {self.chain!r}: the node contradicts itself about block {block}: timestamp {timestamp} in the registry, "
                f"{int(header['timestamp'])} in the block; block_hash {to_0x(logs[0]['blockHash'])} in the log, {block_hash} in the block"
            )
        return AnchorReceipt(
            chain=self.chain,
            chain_id=self.config.required_chain_id,
            backend=self.name,
            contract=registry.address,
            tx=to_0x(logs[0]["transactionHash"]),
            block=block,
            timestamp=timestamp,
            block_hash=block_hash,
        )

    def verify_on_chain(self, digest: bytes, proof: list[bytes], root: bytes) -> bool:
        """Ask the registry's ``verifyRecord`` view: anchored root and valid proof for ``digest``."""
        registry = self.registry()
        with self.client.errors("calling verifyRecord"):
            return bool(registry.functions.verifyRecord(digest, proof, root).call())

    def head(self) -> int:
        return self.client.head()

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            **super().describe(),
            "chain_id": self.config.chain_id,
            "rpc": redact_url(self.config.rpc_url),
            "contract": self.config.contract,
        }
        if self.config.preset:
            info["preset"] = self.config.preset
        info["finality"] = self.finality
        if self.config.contract and self.config.address_url(self.config.contract):
            info["explorer"] = self.config.address_url(self.config.contract)
        return info

    def tx_url(self, receipt: AnchorReceipt) -> str | None:
        """Explorer link of an anchor transaction, for CLI output."""
        return self.config.tx_url(receipt.tx)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._registry = None
