"""The ``ml-run`` record kind: the steps :class:`bctrace.ml.run.Run` records (start,
checkpoint, end). Open: a run's body also carries what integrations observe (splits, search,
predictions) and what the ``ml run`` wrapper adds (command, exit code)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class MlRunBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    step: Literal["start", "checkpoint", "end"]
    run_id: str = Field(min_length=1)
    name: str | None = None
    status: Literal["ok", "failed"] | None = None
    params: dict[str, Any] | None = None
    seed: int | None = None
    metrics: dict[str, Any] | None = None
    inputs: list[dict[str, Any]] | None = None
    outputs: list[dict[str, Any]] | None = None
    models: list[dict[str, Any]] | None = None
