"""Proof bundles (``*.bctrace.json``): everything needed to verify one record, self-contained.

Format version 1 (README, "Records, traces and proof bundles"): ``{"bctrace": 1, "record": {...}, "digest": "0x...",
"merkle": {"format": "oz-standard-v1", "root": "0x...", "proof": ["0x..."]},
"anchors": [{"chain", "chain_id", "backend", "contract", "tx", "block", "timestamp"}]}``.
Only additive changes are allowed; readers ignore keys they do not know, so a newer writer's
extra fields do not break an older reader.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import BundleError
from .hexutil import Hex32, from_0x
from .merkle import FORMAT

BUNDLE_VERSION: Literal[1] = 1
BUNDLE_SUFFIX = ".bctrace.json"


class AnchorReceipt(BaseModel):
    """Where and when a Merkle root was anchored on one chain."""

    model_config = ConfigDict(frozen=True, extra="allow")

    chain: str
    """The chain's name in the anchoring user's config (informative; matching uses chain_id)."""
    chain_id: int
    backend: str
    contract: str | None = None
    """Registry contract address for EVM chains; the ledger's genesis hash for ``local``."""
    tx: str
    block: int = Field(ge=0)
    timestamp: int = Field(ge=0)
    """Seconds since the Unix epoch, as the chain's block says."""


class MerkleProofInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    format: Literal["oz-standard-v1"] = FORMAT
    root: Hex32
    proof: list[Hex32]

    def root_bytes(self) -> bytes:
        return from_0x(self.root, what="merkle root")

    def proof_bytes(self) -> list[bytes]:
        return [from_0x(p, what="merkle proof step") for p in self.proof]


class ProofBundle(BaseModel):
    """One record with its digest, Merkle proof and anchors.

    ``record`` is kept as the JSON object it was written as: verification recomputes the digest
    from exactly those bytes, so a tampered record shows as a digest mismatch even when it no
    longer parses as a :class:`~bctrace.record.Record`.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    bctrace: Literal[1] = BUNDLE_VERSION
    record: dict[str, Any]
    digest: Hex32
    merkle: MerkleProofInfo
    anchors: list[AnchorReceipt] = Field(default_factory=list)

    def digest_bytes(self) -> bytes:
        return from_0x(self.digest, what="digest")

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False) + "\n"

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write atomically (temp file + rename), so a crash never leaves half a bundle."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=BUNDLE_SUFFIX, dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.to_json())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> ProofBundle:
        """Load a bundle, with one clear error naming the file for every way it can be wrong."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BundleError(f"bundle {p} does not exist") from None
        except (OSError, UnicodeDecodeError) as err:
            raise BundleError(f"bundle {p} cannot be read: {err}") from err
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise BundleError(f"bundle {p} is not JSON (line {err.lineno}: {err.msg})") from err
        return cls.from_json_dict(data, source=str(p))

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
            first = err.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise BundleError(f"{source}: field '{where}': {first['msg']}") from err


def bundle_path_for(path: str | os.PathLike[str]) -> Path:
    """Where the bundle of a stamped file or folder lives: beside it, ``NAME.bctrace.json``."""
    p = Path(path)
    return p.with_name(p.name + BUNDLE_SUFFIX)
