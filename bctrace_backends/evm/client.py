"""``EvmClient``: one chain's JSON-RPC connection, signer and transaction sending.

This is the only module that imports web3; it is imported when a chain is first used, never by
``import bctrace``. Every web3/requests error is caught here and re-raised as a one-line
:class:`~bctrace.errors.ChainError` naming the chain (and the RPC URL redacted). Transactions are
built and signed locally with eth-account, then sent raw: the node never holds the key.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from filelock import FileLock
from web3 import Web3
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    ContractPanicError,
    TimeExhausted,
    TransactionNotFound,
    Web3Exception,
    Web3RPCError,
)

from bctrace.api import locked, redact_url, to_0x
from bctrace.errors import AnchorFailed, ChainError, ChainMisconfigured, ChainUnreachable, NotPermitted, Reverted, one_line

from . import artifact
from .config import EvmConfig
from .retry import RetryingHTTPProvider
from .signer import load_account

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

GAS_MARGIN = 1.2
"""Headroom over the node's gas estimate (storage refunds and warm/cold slots vary)."""

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
NONCE_ATTEMPTS = 5
"""Sends with a fresh nonce when a sender outside our lock (another project, another tool)
took the one we read."""


class _NonceTaken(Exception):
    """The nonce read was used by another transaction before ours arrived: read it again."""


@dataclass(frozen=True)
class TxQuote:
    """What one transaction would cost if sent now (see :meth:`EvmClient.quote`)."""

    tx: dict[str, Any]
    """The unsigned transaction as :meth:`EvmClient.transact` would sign it (gas limit with margin)."""
    gas: int
    """The node's gas estimate: the gas the transaction is expected to use."""
    price: int
    """Wei per gas it would pay: ``gasPrice``, or ``min(maxFeePerGas, base fee + tip)``."""

    @property
    def execution_fee(self) -> int:
        return self.gas * self.price


class EvmClient:
    """Connection to one configured chain. Cheap to create; connects on first use."""

    def __init__(self, chain: str, config: EvmConfig, *, lock_dir: Path | None = None, account: LocalAccount | None = None) -> None:
        """:param lock_dir: folder of the per-sender lock files that serialise sending across
        processes (the project's state folder); without one, only this process is careful.
        :param account: send from this account instead of the config's signer (a trace's own)."""
        self.chain = chain
        self.config = config.model_copy(update={"node_account": None}) if account is not None else config
        self.lock_dir = lock_dir
        self._w3: Web3 | None = None
        self._session: requests.Session | None = None
        self._checked = False
        self._account: LocalAccount | None = account
        self._send_lock: FileLock | None = None

    def __repr__(self) -> str:
        return f"<EvmClient chain={self.chain!r} rpc={redact_url(self.config.rpc_url)}>"

    # -- connection ---------------------------------------------------------------------------

    @property
    def w3(self) -> Web3:
        """The connected web3 (see :meth:`connect`)."""
        return self.connect()

    def connect(self) -> Web3:
        """Connect once and check that the node serves the configured chain id."""
        if self._w3 is None:
            self._session = requests.Session()
            provider = RetryingHTTPProvider(
                self.config.rpc_url,
                request_kwargs={"timeout": self.config.rpc_timeout},
                session=self._session,
                exception_retry_configuration=None,  # ours instead: backoff, jitter, Retry-After
                retries=self.config.rpc_retries,
            )
            self._w3 = Web3(provider)
            if self.config.effective_poa:
                from web3.middleware import ExtraDataToPOAMiddleware

                # QBFT/IBFT/Clique/Bor blocks carry validator seals in extraData (> 32 bytes),
                # which web3 refuses to parse without this middleware.
                self._w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        if not self._checked:
            with self.errors("reading the chain id"):
                live = self._w3.eth.chain_id
            if live != self.config.chain_id:
                raise ChainMisconfigured(
                    self.chain,
                    f"the node at {redact_url(self.config.rpc_url)} serves chain id {live}, config says {self.config.chain_id}; nothing was sent",
                )
            self._checked = True
        return self._w3

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        self._w3 = self._session = None
        self._checked = False

    @property
    def account(self) -> LocalAccount:
        if self._account is None:
            self._account = load_account(self.chain, self.config)
        return self._account

    @property
    def sender(self) -> str:
        """The address that sends this chain's transactions (the node's account, or our key's)."""
        return self.config.node_account or self.account.address

    @contextmanager
    def sending(self) -> Iterator[None]:
        """Hold this sender's lock on this chain (re-entrant): processes sharing a state folder
        then pick nonces and send one after the other, and whoever checks "is this root
        anchored yet?" under the lock gets an answer that stays true until it has sent."""
        if self.lock_dir is None:
            yield
            return
        if self._send_lock is None:
            name = f"evm-{self.config.required_chain_id}-{self.sender.lower()}.lock"
            self._send_lock = FileLock(str(self.lock_dir / name))
        with locked(self._send_lock, what=f"chain {self.chain!r}: sending from {self.sender}",
                    timeout=2 * self.config.timeout + 60):
            yield

    @contextmanager
    def errors(self, doing: str, *, writing: bool = False) -> Iterator[None]:
        """Turn library errors into one-line ChainErrors naming the chain and what was being done."""
        failed: type[ChainError] = AnchorFailed if writing else ChainUnreachable
        try:
            yield
        except ChainError:
            raise
        except (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError) as err:
            kind = "timed out" if isinstance(err, (requests.Timeout, TimeoutError)) else "did not answer"
            raise ChainUnreachable(self.chain, f"RPC {redact_url(self.config.rpc_url)} {kind} while {doing}") from err
        except ContractCustomError as err:
            raise self._decode_revert(err) from err
        except (ContractLogicError, ContractPanicError) as err:
            raise AnchorFailed(self.chain, f"the contract reverted while {doing}: {_one_line(err)}") from err
        except Web3RPCError as err:
            message = _rpc_message(err)
            if "insufficient funds" in message.lower():
                who = self.config.node_account or (self._account.address if self._account else "the signer")
                raise AnchorFailed(self.chain, f"insufficient funds in {who} to pay for gas while {doing}") from err
            raise failed(self.chain, f"the node refused {doing}: {message}") from err
        except (Web3Exception, requests.RequestException, ValueError) as err:
            raise failed(self.chain, f"error while {doing}: {_one_line(err)}") from err

    def _decode_revert(self, err: ContractCustomError) -> ChainError:
        data = err.data if isinstance(err.data, str) else str(err.message)
        raw = bytes.fromhex(data[2:]) if data.startswith("0x") else b""
        entry = artifact.custom_errors().get(raw[:4])
        if entry is None:
            return AnchorFailed(self.chain, f"the contract reverted with unknown error data {data[:74]}")
        types = [i["type"] for i in entry["inputs"]]
        args = tuple(Web3.to_checksum_address(v) if t == "address" else v for t, v in zip(types, abi_decode(types, raw[4:]), strict=False))
        if entry["name"] == "NotAllowed":
            return NotPermitted(
                self.chain,
                f"{args[0]} is not allowed to write to this restricted registry (not on its writer allowlist); the registry owner can run "
                f"`bctrace evm allow --chain {self.chain} {args[0]}` (pending records stay in the outbox)",
            )
        if entry["name"] == "NotOwner":
            return NotPermitted(self.chain, f"{args[0]} is not the owner of the registry, so it cannot change its writers (NotOwner)")
        return Reverted(self.chain, entry["name"], args)

    # -- reading --------------------------------------------------------------------------------

    def head(self) -> int:
        with self.errors("reading the block number"):
            return self.w3.eth.block_number

    def call(
        self,
        to: str,
        signature: str,
        args: Sequence[Any] = (),
        returns: Sequence[str] = (),
        *,
        sender: str | None = None,
        optional: bool = False,
    ) -> tuple[Any, ...] | None:
        """One ``eth_call`` of a function given by its signature (``getL1Fee(bytes)``), for the
        fee oracles and precompiles of chain families (flat argument types only).

        ``optional``: return ``None`` when the call reverts or returns nothing (a function that an
        older version of a predeploy does not have) instead of raising.
        """
        from bctrace.api import keccak256

        types = [t for t in signature[signature.index("(") + 1 : -1].split(",") if t]
        data = keccak256(signature.encode())[:4] + abi_encode(types, list(args))
        request: dict[str, Any] = {"to": Web3.to_checksum_address(to), "data": data}
        if sender:
            request["from"] = Web3.to_checksum_address(sender)
        with self.errors(f"calling {signature} at {to}"):
            try:
                raw = bytes(self.w3.eth.call(request))
            except (ContractLogicError, ContractCustomError, ContractPanicError):
                if optional:
                    return None
                raise
            if returns and not raw:
                if optional:
                    return None
                raise ChainMisconfigured(self.chain, f"nothing at {to} answered {signature}")
            return tuple(abi_decode(list(returns), raw))

    def served_chain_id(self) -> int:
        """The chain id the node reports, even when it is not the configured one (verification
        compares it with a bundle's claim: a mismatch there is a false claim, not a config error)."""
        try:
            self.connect()
        except ChainMisconfigured:
            if self._w3 is None:
                raise
            with self.errors("reading the chain id"):
                return int(self._w3.eth.chain_id)
        return self.config.required_chain_id

    def request(self, method: str, params: Sequence[Any], *, doing: str) -> Any:
        """One raw JSON-RPC call (the node's own JSON, no web3 formatting): for chain proofs,
        which must see block fields exactly as the node serves them."""
        w3 = self.w3
        with self.errors(doing):
            reply = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
            if "error" in reply:
                error = reply["error"]
                message = error.get("message", error) if isinstance(error, dict) else error
                raise ChainUnreachable(self.chain, f"the node refused {doing}: {_one_line(message)}")
            return reply.get("result")

    def code(self, address: str) -> bytes:
        with self.errors(f"reading the code at {address}"):
            return bytes(self.w3.eth.get_code(Web3.to_checksum_address(address)))

    # -- writing --------------------------------------------------------------------------------

    def _fees(self, w3: Web3) -> dict[str, int]:
        cfg = self.config
        if cfg.gas_price is not None:
            return {"gasPrice": cfg.gas_price}
        latest = w3.eth.get_block("latest")
        base = latest.get("baseFeePerGas")
        if base is None:  # a pre-London chain: legacy pricing at the node's price, capped
            price = w3.eth.gas_price
            if price > cfg.fee_cap:
                raise AnchorFailed(self.chain, f"gas price {price / 1e9:g} gwei is above the cap {cfg.fee_cap / 1e9:g} gwei")
            return {"gasPrice": price}
        tip = cfg.priority_fee_per_gas if cfg.priority_fee_per_gas is not None else w3.eth.max_priority_fee
        if base + tip > cfg.fee_cap:
            raise AnchorFailed(
                self.chain,
                f"base fee {base / 1e9:g} gwei + tip {tip / 1e9:g} gwei is above the cap max_fee_per_gas "
                f"{cfg.fee_cap / 1e9:g} gwei; retry later or raise the cap",
            )
        return {"maxFeePerGas": min(cfg.fee_cap, 2 * base + tip), "maxPriorityFeePerGas": min(tip, cfg.fee_cap)}

    def estimate_sender(self) -> str:
        """Who estimates are made for: the signer when its key is at hand (``key = "env:VAR"``),
        else the zero address, because an estimate must never prompt for a keystore password."""
        if self.config.node_account:
            return self.config.node_account
        if self._account is None and self.config.key:
            try:
                return self.account.address
            except ChainError:
                return ZERO_ADDRESS
        return self._account.address if self._account else ZERO_ADDRESS

    def quote(self, data: bytes, *, to: str, what: str) -> TxQuote:
        """Estimate a transaction without signing or sending it (for ``bctrace chains --estimate``)."""
        w3 = self.w3
        sender = self.estimate_sender()
        with self.errors(f"estimating {what}"):
            tx: dict[str, Any] = {"chainId": self.config.required_chain_id, "from": sender, "to": Web3.to_checksum_address(to), "value": 0, "data": data}
            gas = int(w3.eth.estimate_gas(tx))
            fees = self._fees(w3)
            if "gasPrice" in fees:
                price = fees["gasPrice"]
            else:
                base = int(w3.eth.get_block("latest")["baseFeePerGas"])
                price = min(fees["maxFeePerGas"], base + fees["maxPriorityFeePerGas"])
            nonce = w3.eth.get_transaction_count(sender, "latest")
        limit = self.config.gas_limit or int(gas * GAS_MARGIN)  # what transact() would sign
        return TxQuote({**tx, **fees, "gas": limit, "nonce": nonce}, gas, price)

    def transact(self, data: bytes, *, to: str | None, what: str, value: int = 0) -> dict[str, Any]:
        """Sign ``data`` locally, send it, and wait for its receipt and confirmations.

        Returns the receipt (a mapping). Raises :class:`AnchorFailed` if it reverts or is not
        confirmed within ``timeout``; :class:`Reverted`/:class:`NotPermitted` if the node's gas
        estimate already shows the contract refusing. Sending holds the sender's lock
        (:meth:`sending`); a nonce taken meanwhile by a sender outside it is retried with a new one.
        """
        with self.sending():
            for _ in range(NONCE_ATTEMPTS):
                try:
                    return self._transact_once(data, to=to, what=what, value=value)
                except _NonceTaken:
                    continue
        raise AnchorFailed(self.chain, f"{what}: another sender from {self.sender} kept taking the nonce; retry the flush")

    def _transact_once(self, data: bytes, *, to: str | None, what: str, value: int = 0) -> dict[str, Any]:
        w3 = self.w3
        sender = self.sender
        with self.errors(f"preparing {what}", writing=True):
            tx: dict[str, Any] = {"chainId": self.config.required_chain_id, "from": sender, "value": value, "data": data}
            if to is not None:
                tx["to"] = Web3.to_checksum_address(to)
            # estimated without fee fields: with them, an empty account shows as "out of gas"
            tx["gas"] = self.config.gas_limit or int(w3.eth.estimate_gas(tx) * GAS_MARGIN)
            tx.update(self._fees(w3))
            cost = tx["gas"] * tx.get("maxFeePerGas", tx.get("gasPrice", 0)) + value
            balance = w3.eth.get_balance(sender)
            if balance < cost:
                raise AnchorFailed(
                    self.chain, f"insufficient funds in {sender} for {what}: balance {balance / 1e18:.6g}, "
                    f"needs up to {cost / 1e18:.6g} (gas {tx['gas']})",
                )
            # "latest", not "pending": after a timed-out flush the retry re-uses the stuck
            # transaction's nonce, so it replaces it (if fees rose) instead of queueing behind it.
            tx["nonce"] = w3.eth.get_transaction_count(sender, "latest")
        if self.config.node_account:
            with self.errors(f"sending {what} from the node's account {sender}", writing=True):
                try:
                    tx_hash = w3.eth.send_transaction(tx)  # type: ignore[arg-type]
                except Web3RPCError as err:
                    if "nonce too low" in _rpc_message(err).lower():
                        raise _NonceTaken() from err
                    raise
            return self._confirmed(w3, tx_hash, what)
        signed = self.account.sign_transaction({k: v for k, v in tx.items() if k != "from"})
        with self.errors(f"sending {what}", writing=True):
            try:
                tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
            except Web3RPCError as err:
                message = _rpc_message(err).lower()
                if "already known" in message or "already imported" in message:
                    tx_hash = signed.hash  # the very same transaction is already in the pool
                elif "nonce too low" in message:
                    if not self._known(w3, signed.hash):
                        raise _NonceTaken() from err
                    tx_hash = signed.hash  # a retried send of ours that was mined meanwhile
                elif "underpriced" in message:
                    raise AnchorFailed(
                        self.chain,
                        f"an earlier transaction from {sender} with nonce {tx['nonce']} is still pending and pays at least as "
                        "much; retry later (or raise the fee cap to replace it)",
                    ) from err
                else:
                    raise
        return self._confirmed(w3, tx_hash, what)

    @staticmethod
    def _known(w3: Web3, tx_hash: bytes) -> bool:
        try:
            w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            return False
        return True

    def _confirmed(self, w3: Web3, tx_hash: bytes, what: str) -> dict[str, Any]:
        receipt = self._wait(w3, tx_hash, what)
        if receipt["status"] != 1:
            raise AnchorFailed(
                self.chain, f"{what} transaction {to_0x(tx_hash)} reverted in block {receipt['blockNumber']} (gas used {receipt['gasUsed']})"
            )
        return dict(receipt)

    def _wait(self, w3: Web3, tx_hash: bytes, what: str) -> Any:
        deadline = time.monotonic() + self.config.timeout
        with self.errors(f"waiting for {what} transaction {to_0x(tx_hash)}", writing=True):
            try:
                receipt = w3.eth.wait_for_transaction_receipt(
                    tx_hash, timeout=self.config.timeout, poll_latency=self.config.poll_interval
                )
            except TimeExhausted:
                raise AnchorFailed(
                    self.chain,
                    f"no receipt for {what} transaction {to_0x(tx_hash)} after {self.config.timeout:g} s "
                    "(it may still be mined; the next flush checks before sending again)",
                ) from None
            need = self.config.effective_confirmations
            while w3.eth.block_number - receipt["blockNumber"] + 1 < need:
                if time.monotonic() > deadline:
                    raise AnchorFailed(
                        self.chain, f"{what} transaction {to_0x(tx_hash)} has fewer than {need} confirmations after {self.config.timeout:g} s"
                    )
                time.sleep(self.config.poll_interval)
        return receipt


def _rpc_message(err: Web3RPCError) -> str:
    """The node's own message (``insufficient funds ...``), not the repr of the whole response."""
    error = (err.rpc_response or {}).get("error") if isinstance(err.rpc_response, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return _one_line(error["message"])
    return _one_line(getattr(err, "message", None) or err)


def _one_line(err: object) -> str:
    return one_line(err, 300)
