"""Proof bundles (``*.bctrace.json``): everything needed to verify one record, self-contained.

Format version 1 (README, "Records, traces and proof bundles"): ``{"bctrace": 1, "record": {...}, "digest": "0x...",
"merkle": {"format": "oz-standard-v1", "root": "0x...", "proof": ["0x..."]},
"anchors": [{"chain", "chain_id", "backend", "contract", "tx", "block", "timestamp",
"block_hash"?, "status"?, "chain_proof"?}]}`` (README, "Proof bundle format"). Only additive changes are
allowed; readers ignore keys they do not know, so a newer writer's extra fields do not break an
older reader.

Reading is strict (:mod:`bctrace._internal.strictjson`): a key that appears twice is a failed
verification (exit 1: the bundle says two things); anything else that is not strict JSON, is
too big or too deep, or has a field of the wrong type is not a bundle (exit 2), with the field
named. The limits below keep a hostile bundle from exhausting memory or time.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import BundleAmbiguous, BundleError
from . import strictjson
from .boundedread import read_bounded
from .hexutil import Hex32
from .merkle import FORMAT

if TYPE_CHECKING:
    from .atomicfile import StaleTempSweep

BUNDLE_VERSION: Literal[1] = 1
BUNDLE_SUFFIX = ".bctrace.json"

MAX_BUNDLE_BYTES = 64 * 1024 * 1024
"""Largest bundle file read (a record holding the manifest of a folder of ~300,000 files)."""
MAX_PROOF_STEPS = 64
"""Longest Merkle proof: a tree of 2**64 records."""
MAX_ANCHORS = 64
MAX_TIMESTAMP = 253_402_300_799
"""9999-12-31T23:59:59Z: the last second a calendar date can show."""
_SHORT = 256
"""Longest name, address or transaction id accepted in an anchor."""


class AnchorReceipt(BaseModel):
    """Where and when a Merkle root was anchored on one chain."""

    model_config = ConfigDict(frozen=True, extra="allow", strict=True)

    chain: str = Field(max_length=_SHORT)
    """The chain's name in the anchoring user's config (a label; matching uses chain_id)."""
    chain_id: int = Field(ge=0)
    backend: str = Field(max_length=_SHORT)
    """The backend that made the anchor (a label; it picks the checker of ``chain_proof``)."""
    contract: str | None = Field(default=None, max_length=_SHORT)
    """Registry contract address for EVM chains; the ledger's genesis hash for ``local``."""
    tx: str = Field(max_length=_SHORT)
    block: int = Field(ge=0)
    timestamp: int = Field(ge=0, le=MAX_TIMESTAMP)
    """Seconds since the Unix epoch: the timestamp of the anchor's block."""
    block_hash: Hex32 | None = None
    """The hash of the anchor's block, where the chain has one (EVM: keccak256 of its header)."""
    status: Literal["pending"] | None = None
    """``"pending"`` while the chain has not confirmed the anchor yet (OpenTimestamps: no calendar
    has a Bitcoin attestation yet); absent once it has. A pending anchor is shown by verify as a
    claim with status ``pending`` and never counts toward a policy; ``bctrace upgrade`` (and
    ``flush``) replace it with the confirmed anchor (README, "Pending anchors")."""
    chain_proof: dict[str, Any] | None = None
    """Evidence that needs only a trusted block (or ledger head) hash to check: for EVM chains
    the block header and Merkle-Patricia proofs of the registry's slot and of the transaction,
    for the local ledger the ledger lines from the anchor's block on (README, "chain_proof")."""


class MerkleProofInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", strict=True)

    format: Literal["oz-standard-v1"] = FORMAT
    root: Hex32
    proof: list[Hex32] = Field(max_length=MAX_PROOF_STEPS)

    def root_bytes(self) -> bytes:
        return bytes.fromhex(self.root[2:])

    def proof_bytes(self) -> list[bytes]:
        """The steps as bytes. Validation has checked every step's form (:data:`Hex32`), so
        each is decoded with no second check."""
        return [bytes.fromhex(p[2:]) for p in self.proof]


class ProofBundle(BaseModel):
    """One record with its digest, Merkle proof and anchors.

    ``record`` is kept as the JSON object it was written as: verification recomputes the digest
    from exactly those bytes, so a tampered record shows as a digest mismatch even when it no
    longer parses as a :class:`~bctrace.record.Record`.
    """

    model_config = ConfigDict(frozen=True, extra="allow", strict=True)

    bctrace: Literal[1] = BUNDLE_VERSION
    record: dict[str, Any]
    digest: Hex32
    merkle: MerkleProofInfo
    anchors: list[AnchorReceipt] = Field(default_factory=list, max_length=MAX_ANCHORS)
    disclosures: list[Any] | None = None
    """Disclosures of private body fields this bundle reveals (``[salt, name, value]`` or
    ``[salt, value]``), each checked against a digest in the record
    (:mod:`bctrace._internal.disclosure`); outside the record, so not covered by its digest."""

    def digest_bytes(self) -> bytes:
        return bytes.fromhex(self.digest[2:])

    def to_json(self) -> str:
        """The bundle file's text: pydantic's serializer (Rust) with the indentation of
        ``json.dumps(indent=2)``, whose pure-Python indenting encoder cost 5x more."""
        return self.model_dump_json(indent=2, exclude_none=True) + "\n"

    def write(self, path: str | os.PathLike[str], *, sweep: StaleTempSweep | None = None) -> Path:
        """Write atomically (temp file + rename), so a crash never leaves half a bundle.

        The temp file is ``.NAME.<pid>.<random>.tmp``: no ``*.bctrace.json`` glob matches it,
        and one left by a killed process (its pid no longer running) is removed by the next
        write into the same folder (the next flush, which resumes the batch, rewrites its
        bundles). A writer of many bundles passes one ``sweep`` (:meth:`sweeper`) so that each
        folder is listed once, not once per bundle (:class:`~bctrace._internal.atomicfile.StaleTempSweep`)."""
        from .atomicfile import temp_prefix

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.to_json())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        (sweep if sweep is not None else ProofBundle.sweeper())(target)
        return target

    @staticmethod
    def sweeper() -> StaleTempSweep:
        """One sweep of stale temp files per folder, for a run of :meth:`write` calls."""
        from .atomicfile import StaleTempSweep

        return StaleTempSweep(BUNDLE_SUFFIX)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> ProofBundle:
        """Load a bundle, with one clear error naming the file for every way it can be wrong."""
        p = Path(path)
        raw = read_bounded(p, MAX_BUNDLE_BYTES, "bundle", BundleError, too_large=", the most a bundle may be")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise BundleError(f"bundle {p} is not UTF-8 text (byte {err.start})") from None
        return cls.from_json_text(text, source=str(p))

    @classmethod
    def from_json_text(cls, text: str, *, source: str = "bundle") -> ProofBundle:
        """Parse a bundle strictly (see the module docstring)."""
        try:
            data = strictjson.loads(text)
        except strictjson.DuplicateKey as err:
            raise BundleAmbiguous(f"{source}: {err}; JSON readers disagree on which value counts") from None
        except json.JSONDecodeError as err:
            raise BundleError(f"{source} is not JSON (line {err.lineno}: {err.msg})") from None
        except ValueError as err:  # strictjson.JsonProblem
            raise BundleError(f"{source} is not a valid bundle: {err}") from None
        return cls.from_json_dict(data, source=source)

    @classmethod
    def from_json_dict(cls, data: Any, *, source: str = "bundle") -> ProofBundle:
        if not isinstance(data, dict) or "bctrace" not in data:
            raise BundleError(f"{source} is not a bctrace proof bundle (no 'bctrace' key)")
        if data.get("bctrace") != BUNDLE_VERSION:
            raise BundleError(
                f"{source} has bundle format {data.get('bctrace')!r}; this bctrace reads format {BUNDLE_VERSION}"
            )
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise BundleError(f"{source}: {field_error(err)}") from None


def field_error(err: ValidationError) -> str:
    """The first problem pydantic found, as ``field 'a.b[0]': message`` (no input, no web link)."""
    first = err.errors(include_url=False, include_input=False)[0]
    where = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in first["loc"]).lstrip(".")
    message = str(first["msg"]).removeprefix("Value error, ")
    if not where or message.startswith(where):  # the message names the place itself
        return message
    return f"field '{where}': {message}"


def bundle_path_for(path: str | os.PathLike[str]) -> Path:
    """Where the bundle of a stamped file or folder lives: beside it, ``NAME.bctrace.json``."""
    p = Path(path)
    return p.with_name(p.name + BUNDLE_SUFFIX)
