"""``OpenTimestampsBackend``: a Merkle root submitted to OpenTimestamps calendars, which commit
it into a Bitcoin transaction hours later (README, "Bitcoin through OpenTimestamps").

An anchor starts **pending**: the receipt says ``"status": "pending"`` and its ``chain_proof``
holds the OTS proof so far (the calendars' ``PendingAttestation``). :meth:`upgrade` asks the
calendars again, as ``ots upgrade`` does; once one returns a Bitcoin block attestation and the
header source has that block, the receipt becomes a confirmed one: ``block`` is the height,
``tx`` the calendar's transaction id, ``timestamp`` and ``block_hash`` come from the block
header, which ``chain_proof.header`` carries so that a trusted block hash alone checks it.

Calendars keep no index a verifier could search by root, so :meth:`lookup` answers from the
receipts this backend made (``STATE_DIR/opentimestamps/``); verification of a bundle checks its
claim (:meth:`find_claimed`) against the block header at the claimed height instead.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from bitcoin.core import CBlockHeader
from opentimestamps.calendar import CommitmentNotFoundError, RemoteCalendar, UrlWhitelist
from opentimestamps.core.timestamp import Timestamp

from bctrace.api import (
    AnchorFailed,
    AnchorReceipt,
    BackendConfig,
    ChainBackend,
    ChainMisconfigured,
    ChainUnreachable,
    ClaimMismatch,
    UsageError,
    from_0x,
    one_line,
    redact_url,
    to_0x,
)

from . import proof
from .config import BITCOIN_CHAIN_ID, OpenTimestampsConfig
from .headers import BitcoinCoreHeaders, EsploraHeaders, HeaderSource, block_hash_hex

FORMAT = "opentimestamps-v1"
"""``chain_proof.format`` of this backend's anchors (README, "OpenTimestamps chain proof")."""
USER_AGENT = "bctrace"


def _display(raw: bytes) -> str:
    """A Bitcoin hash as Bitcoin tools show it: reversed byte order, ``0x`` hex."""
    return to_0x(raw[::-1])


class OpenTimestampsBackend(ChainBackend):
    name = "opentimestamps"
    config_model = OpenTimestampsConfig
    config: OpenTimestampsConfig

    def __init__(self, chain: str, config: BackendConfig, *, state_dir: Path) -> None:
        super().__init__(chain, config, state_dir=state_dir)
        self._headers: HeaderSource | None = None
        self._whitelist = UrlWhitelist([*self.config.calendars, *self.config.upgrade_from])
        self._folder = state_dir / "opentimestamps" / chain

    def _source(self) -> HeaderSource:
        """Bitcoin Core's RPC if configured, else the Esplora API; built on first use, so that a
        missing credential fails only what needs headers (anchoring and other chains never do)."""
        if self._headers is None:
            self._headers = self._make_source()
        return self._headers

    def _make_source(self) -> HeaderSource:
        cfg = self.config
        if cfg.bitcoin_rpc:
            auth = None
            if cfg.bitcoin_rpc_auth:
                var = cfg.bitcoin_rpc_auth.removeprefix("env:")
                user, sep, password = os.environ.get(var, "").partition(":")
                if not sep:
                    raise ChainMisconfigured(self.chain, f"environment variable {var} (bitcoin_rpc_auth) must hold user:password")
                auth = (user, password)
            return BitcoinCoreHeaders(self.chain, cfg.bitcoin_rpc, timeout=cfg.timeout, auth=auth)
        if cfg.esplora:
            return EsploraHeaders(self.chain, cfg.esplora, timeout=cfg.timeout)
        raise ChainMisconfigured(self.chain, f"no block header source (set esplora = \"https://…\" or bitcoin_rpc in [chains.{self.chain}])")

    # -- identity -------------------------------------------------------------------------------

    @property
    def chain_id(self) -> int:
        return BITCOIN_CHAIN_ID

    @property
    def configured_chain_id(self) -> int | None:
        return BITCOIN_CHAIN_ID

    # -- anchoring ------------------------------------------------------------------------------

    def anchor(self, root: bytes) -> AnchorReceipt:
        """Submit ``root`` to every calendar; at least ``min_calendars`` must accept it."""
        known = self.lookup(root)
        if known is not None:
            return known
        stamp = Timestamp(root)
        problems = []
        accepted = 0
        for url in self.config.calendars:
            try:
                stamp.merge(RemoteCalendar(url, user_agent=USER_AGENT).submit(root, timeout=self.config.timeout))
                accepted += 1
            except Exception as err:  # noqa: BLE001 - the library raises bare Exception for bad answers
                problems.append(f"{redact_url(url)}: {one_line(err)}")
        needed = self.config.min_calendars
        if accepted < needed:
            raise ChainUnreachable(self.chain, f"{accepted} of {len(self.config.calendars)} calendars accepted the root, "
                                   f"{needed} needed: {'; '.join(problems)}")
        if problems:
            self.notes.append(f"chain {self.chain!r}: {accepted} of {len(self.config.calendars)} calendars accepted the root ({'; '.join(problems)})")
        receipt = self._receipt(root, stamp, submitted=int(time.time()))
        self._save(root, receipt)
        return receipt

    def upgrade(self, root: bytes, receipt: AnchorReceipt) -> AnchorReceipt:
        """Ask the calendars of a pending anchor for their Bitcoin attestation (``ots upgrade``).

        Returns the receipt unchanged while every calendar still waits; a confirmed receipt once
        one has attested and the header source has the block. Only calendars in ``calendars`` or
        ``upgrade_from`` are asked, whatever URL the proof names.
        """
        if receipt.status != "pending":
            return receipt
        stamp = self.stamp_of(root, receipt)
        reached, problems = 0, []
        for commitment, attestation in list(proof.pending(stamp)):
            if attestation.uri not in self._whitelist:
                self.notes.append(f"chain {self.chain!r}: calendar {redact_url(attestation.uri)} is not in calendars or upgrade_from: not asked")
                continue
            try:
                commitment.merge(RemoteCalendar(attestation.uri, user_agent=USER_AGENT).get_timestamp(commitment.msg, timeout=self.config.timeout))
            except CommitmentNotFoundError:
                pass  # still pending at that calendar
            except Exception as err:  # noqa: BLE001 - the library raises bare Exception for bad answers
                problems.append(f"{redact_url(attestation.uri)}: {one_line(err)}")
                continue
            reached += 1
        upgraded = self._receipt(root, stamp, submitted=receipt.timestamp)
        if upgraded.status == "pending" and problems and not reached:
            raise ChainUnreachable(self.chain, f"no calendar of the pending anchor could be asked: {'; '.join(problems)}")
        if upgraded != receipt:
            self._save(root, upgraded)
        return upgraded

    def _receipt(self, root: bytes, stamp: Timestamp, *, submitted: int) -> AnchorReceipt:
        """A confirmed receipt if the proof reaches a block the header source has, else pending."""
        ots = to_0x(proof.serialize(stamp))
        for commitment in proof.bitcoin_commitments(stamp):
            header = self._header_at(commitment.height)
            if header is None:
                continue  # the header source is behind the calendar
            if bytes(header.hashMerkleRoot) != commitment.merkle_root:
                raise AnchorFailed(self.chain, f"a calendar attests the root in block {commitment.height}, "
                                   f"but that block's merkle root is {_display(bytes(header.hashMerkleRoot))}, not {_display(commitment.merkle_root)}")
            return self._confirmed(commitment, header, ots)
        return AnchorReceipt(chain=self.chain, chain_id=BITCOIN_CHAIN_ID, backend=self.name, tx="", block=0,
                             timestamp=submitted, status="pending", chain_proof={"format": FORMAT, "ots": ots})

    def _confirmed(self, commitment: proof.BitcoinCommitment, header: CBlockHeader, ots: str) -> AnchorReceipt:
        return AnchorReceipt(
            chain=self.chain, chain_id=BITCOIN_CHAIN_ID, backend=self.name,
            tx=_display(commitment.txid) if commitment.txid else "", block=commitment.height,
            timestamp=header.nTime, block_hash="0x" + block_hash_hex(header),
            chain_proof={"format": FORMAT, "ots": ots, "header": to_0x(header.serialize())},
        )

    # -- receipts this backend made -------------------------------------------------------------

    def _path(self, root: bytes) -> Path:
        return self._folder / f"{to_0x(root)}.json"

    def _save(self, root: bytes, receipt: AnchorReceipt) -> None:
        """Atomically, so that a crash leaves the old receipt or the new one."""
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".receipt.", suffix=".tmp", dir=self._folder)
        except OSError as err:
            raise ChainMisconfigured(self.chain, f"receipts cannot be kept in {self._folder}: {err.strerror or err}") from err
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(receipt.model_dump_json(exclude_none=True))
            os.replace(tmp, self._path(root))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def lookup(self, root: bytes) -> AnchorReceipt | None:
        """The receipt this backend made for ``root`` (calendars cannot be searched by root)."""
        try:
            text = self._path(root).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return AnchorReceipt.model_validate_json(text).model_copy(update={"chain": self.chain})

    # -- verification -----------------------------------------------------------------------------

    def find_claimed(self, root: bytes, claim: AnchorReceipt | None) -> AnchorReceipt | None:
        """What the header source says about the claimed block: the receipt the claim's OTS
        proof makes with the real header at that height, or ``None`` if there is no such block."""
        if claim is None:
            return self.lookup(root)
        stamp = self.stamp_of(root, claim)
        commitment = _commitment_at(stamp, claim.block)
        header = self._header_at(commitment.height)
        if header is None:
            return None
        if bytes(header.hashMerkleRoot) != commitment.merkle_root:
            raise ClaimMismatch("block", f"block {commitment.height}: the OTS proof leads to merkle root {_display(commitment.merkle_root)}, "
                                f"the block's merkle root is {_display(bytes(header.hashMerkleRoot))}")
        return self._confirmed(commitment, header, to_0x(proof.serialize(stamp)))

    @classmethod
    def check_chain_proof(cls, anchor: AnchorReceipt, root: bytes, trusted: Collection[bytes]) -> None:
        """The OTS proof must lead from ``root`` to the merkle root of the header in the chain
        proof, at the claimed height, through the claimed transaction; that header must be the
        claimed block, and trusted: its hash, or (``HEIGHT:MERKLEROOT``) its height and merkle root."""
        stamp = cls.stamp_of(root, anchor)
        commitment = _commitment_at(stamp, anchor.block)
        if commitment.txid is not None and _display(commitment.txid) != anchor.tx:
            raise ClaimMismatch("tx", f"the OTS proof goes through transaction {_display(commitment.txid)}, the bundle says {anchor.tx}")
        header = _header_of(anchor)
        if bytes(header.hashMerkleRoot) != commitment.merkle_root:
            raise ClaimMismatch("chain_proof.header", f"its merkle root is {_display(bytes(header.hashMerkleRoot))}, "
                                f"the OTS proof leads to {_display(commitment.merkle_root)}")
        block_hash = bytes(header.GetHash())[::-1]
        if anchor.block_hash != to_0x(block_hash):
            raise ClaimMismatch("block_hash", f"the header in chain_proof hashes to {to_0x(block_hash)}, the bundle says {anchor.block_hash}")
        if header.nTime != anchor.timestamp:
            raise ClaimMismatch("timestamp", f"the header in chain_proof says {header.nTime}, the bundle says {anchor.timestamp}")
        for value in trusted:
            if value == block_hash or value == _trusted_root(commitment.height, commitment.merkle_root[::-1]):
                return
        raise ClaimMismatch("block_hash", f"block {commitment.height} (hash {to_0x(block_hash)}, merkle root {_display(commitment.merkle_root)}) is not a trusted block")

    @classmethod
    def from_endpoint(cls, chain: str, url: str, receipt: AnchorReceipt, *, state_dir: Path) -> OpenTimestampsBackend:
        """``verify --rpc 123018802804465=URL``: URL is an Esplora-style header API; no calendar
        is needed to check a confirmed anchor."""
        return cls(chain, OpenTimestampsConfig(esplora=url), state_dir=state_dir)

    @classmethod
    def parse_trusted(cls, value: str) -> tuple[int, bytes]:
        """``HEIGHT:0xMERKLEROOT`` (as ``bitcoin-cli getblockheader`` shows the merkle root), or
        ``0xBLOCKHASH``."""
        height, sep, merkle_root = value.partition(":")
        try:
            if not sep:
                return BITCOIN_CHAIN_ID, from_0x(value.strip().lower(), what="block hash")
            if not height.strip().isdigit():
                raise ValueError("height")
            return BITCOIN_CHAIN_ID, _trusted_root(int(height), from_0x(merkle_root.strip().lower(), what="merkle root"))
        except ValueError:
            raise UsageError(f"{value!r} must be HEIGHT:0xMERKLEROOT or 0xBLOCKHASH (hashes as Bitcoin Core shows them)") from None

    @classmethod
    def stamp_of(cls, root: bytes, anchor: AnchorReceipt) -> Timestamp:
        """The OTS proof of ``root`` an anchor carries; :class:`ClaimMismatch` if it does not parse."""
        chain_proof = anchor.chain_proof or {}
        if chain_proof.get("format") != FORMAT or not isinstance(chain_proof.get("ots"), str):
            raise ClaimMismatch("chain_proof", f"an {cls.name} anchor carries its OTS proof as chain_proof {{\"format\": \"{FORMAT}\", \"ots\": \"0x…\"}}")
        try:
            return proof.deserialize(root, from_0x(chain_proof["ots"], what="chain_proof.ots", length=None))
        except ValueError as err:
            raise ClaimMismatch("chain_proof.ots", str(err)) from None

    def _header_at(self, height: int) -> CBlockHeader | None:
        return self._source().header_at(height)

    # -- the rest of the contract -----------------------------------------------------------------

    def head(self) -> int:
        return self._source().tip_height()

    def confirmations(self, receipt: AnchorReceipt) -> int:
        return 0 if receipt.status == "pending" else super().confirmations(receipt)

    def describe(self) -> dict[str, Any]:
        headers = self.config.bitcoin_rpc or self.config.esplora
        return {**super().describe(), "calendars": [redact_url(u) for u in self.config.calendars],
                "min_calendars": self.config.min_calendars, "headers": redact_url(headers) if headers else None,
                "finality": "pending until a calendar attests the root in a Bitcoin block (`bctrace upgrade`); "
                            "then as final as that block (six blocks on top: about an hour)"}

    def close(self) -> None:
        if self._headers is not None:
            self._headers.close()


def _trusted_root(height: int, merkle_root_display: bytes) -> bytes:
    """A trusted ``HEIGHT:MERKLEROOT`` as one value: 4-byte big-endian height, then the root."""
    return height.to_bytes(4, "big") + merkle_root_display


def _commitment_at(stamp: Timestamp, height: int) -> proof.BitcoinCommitment:
    commitments = proof.bitcoin_commitments(stamp)
    for commitment in commitments:
        if commitment.height == height:
            return commitment
    have = ", ".join(str(c.height) for c in commitments) or "none"
    raise ClaimMismatch("block", f"the OTS proof has no Bitcoin attestation at block {height} (it has: {have})")


def _header_of(anchor: AnchorReceipt) -> CBlockHeader:
    raw = (anchor.chain_proof or {}).get("header")
    try:
        data = from_0x(raw, what="chain_proof.header", length=80)  # type: ignore[arg-type]
        return CBlockHeader.deserialize(data)
    except (ValueError, TypeError) as err:
        raise ClaimMismatch("chain_proof.header", str(err)) from None
