"""What the ``/v1`` API accepts: pydantic models (``extra="forbid"``) whose JSON schemas are also
the OpenAPI document's, so the document and the checks cannot drift apart."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .._internal.record import Subject

MAX_RECORDS_PER_POST = 10_000
DIGEST_PATTERN = r"^0x[0-9a-fA-F]{64}$"
TRACE_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"


class RecordIn(BaseModel):
    """One step, as ``bctrace record`` takes it; the service adds ``seq``, ``prev`` and
    ``created``, and ``author`` defaults to the token's producer name."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=128)
    body: dict[str, Any] = Field(default_factory=dict)
    trace: str | None = Field(default=None, pattern=TRACE_PATTERN, description="append to this trace (a new random trace when absent)")
    subjects: list[Subject] = Field(default_factory=list, max_length=1000)
    author: str | None = Field(default=None, min_length=1, max_length=256)
    salt: bool = Field(default=False, description="add a random salt (hides guessable bodies)")


class RecordsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[RecordIn] = Field(min_length=1, max_length=MAX_RECORDS_PER_POST)


class DigestsIn(BaseModel):
    """Bare sha256 digests (the content never leaves the producer): each becomes a leaf of the
    next batch, and its proof is fetched with ``GET /v1/bundles/{digest}``."""

    model_config = ConfigDict(extra="forbid")

    digests: list[Annotated[str, StringConstraints(pattern=DIGEST_PATTERN)]] = Field(min_length=1, max_length=MAX_RECORDS_PER_POST)
