"""Hugging Face ``transformers``: ``BctraceCallback`` records a ``Trainer.train`` as an ML run.

``on_train_begin`` opens a run (or attaches to the open one, or to ``run=``) and logs the
``TrainingArguments`` (``args.*``; tokens are already masked by ``to_dict``) and the model config
(``model.*``); ``on_log`` logs every numeric value the Trainer logs, at ``state.global_step``;
``on_save`` (with ``checkpoints=True``) writes a checkpoint step with the hash of the checkpoint
folder; ``on_train_end`` logs the model hash and ends the run it opened (anchoring it with
``flush=True``)::

    trainer = Trainer(model=model, args=args, train_dataset=ds, callbacks=[BctraceCallback(tracer=tracer)])
    trainer.train()

The Trainer has no hook for a failed training: to record a crash as a ``failed`` run, train inside
``with tracer.run(...):`` — the callback then attaches to that run and the ``with`` block ends it.
Only the world-process-zero records.
"""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from ._binding import BoundCallback

if TYPE_CHECKING:
    from ..run import Run

__all__ = ["BctraceCallback"]


class BctraceCallback(BoundCallback, TrainerCallback):
    """Record ``Trainer.train`` as an ML run; see the module docstring.

    :param name: the run's name (default: the model's class name).
    :param tracer: tracer for a run opened here (default: ``Tracer.from_config()``, closed after).
    :param run: log to this run instead of the open one or a new one; it is not ended here.
    :param checkpoints: write a checkpoint step, with the checkpoint folder's hash, on each save.
    :param flush: anchor right after ending a run opened here.
    :param run_kwargs: for a run opened here (``seed``, ``tags``, ``bundle_dir``, ``params``...).
    """

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        params = {f"args.{k}": v for k, v in args.to_dict().items()}
        config = getattr(model, "config", None)
        if config is not None and hasattr(config, "to_dict"):
            params.update({f"model.{k}": v for k, v in config.to_dict().items()})
        self._binding.open(self.name or type(model).__name__, params)

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        run = self._active(state)
        numeric = {k: v for k, v in (logs or {}).items() if isinstance(v, numbers.Number) or hasattr(v, "item")}
        if run is not None and numeric:
            run.log_metrics(numeric, step=state.global_step)

    def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        run = self._active(state)
        if run is None or not self.checkpoints:
            return
        folder = Path(args.output_dir or ".") / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"
        run.checkpoint(step=state.global_step, artifact=folder if folder.is_dir() else None)

    def on_train_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, model: Any = None, **kwargs: Any) -> None:
        run = self._active(state)
        if run is None:
            return
        if model is not None:
            run.log_model(model, name="model")
        self._binding.close()

    def _active(self, state: TrainerState) -> Run | None:
        run = self._binding.run
        return run if state.is_world_process_zero and run is not None and run.status is None else None
