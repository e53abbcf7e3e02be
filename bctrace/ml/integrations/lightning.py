"""PyTorch Lightning: ``BctraceCallback`` records a ``Trainer.fit`` as a bctrace ML run.

On fit start it opens a run (or attaches to the one already open, or to ``run=``) and logs the
module's and datamodule's hyper-parameters plus the trainer settings that change the result; at
each training-epoch end it logs ``trainer.callback_metrics`` (validation metrics included: Lightning
runs validation before that hook; the metric step is the epoch index) and, with ``checkpoints=True``, writes a checkpoint step; at fit
end it logs the model hash and the files written by ``ModelCheckpoint``, then ends the run it
opened (``failed`` if fit raised) and, with ``flush=True``, anchors it::

    trainer = L.Trainer(max_epochs=3, callbacks=[BctraceCallback(tracer=tracer, seed=42)])
    trainer.fit(model, datamodule=dm)

Only global rank 0 records, so a multi-process run yields one trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    import lightning.pytorch as pl
except ImportError:  # the standalone ``pytorch_lightning`` distribution
    import pytorch_lightning as pl  # type: ignore[no-redef]

from ..run import current_run
from ._binding import BoundCallback

if TYPE_CHECKING:
    from ..run import Run

__all__ = ["BctraceCallback"]

TRAINER_SETTINGS = (
    "max_epochs", "min_epochs", "max_steps", "accumulate_grad_batches", "gradient_clip_val", "gradient_clip_algorithm",
    "precision", "limit_train_batches", "check_val_every_n_epoch", "val_check_interval", "num_devices", "world_size",
)
"""Trainer attributes recorded as ``trainer.*`` params: they change what is learned. (The
determinism switches are in the run's ``randomness`` section, captured by the core.)"""


class BctraceCallback(BoundCallback, pl.Callback):
    """Record ``Trainer.fit`` as an ML run; see the module docstring.

    :param name: the run's name (default: the LightningModule's class name).
    :param tracer: tracer for a run opened here (default: ``Tracer.from_config()``, closed after).
    :param run: log to this run instead of the open one or a new one; it is not ended here.
    :param checkpoints: write a checkpoint step (metrics so far) at every training-epoch end.
    :param flush: anchor right after ending a run opened here.
    :param run_kwargs: for a run opened here (``seed``, ``tags``, ``bundle_dir``, ``params``...).
        A ``seed`` here is applied when fit starts, after the model's weights were initialised:
        to cover initialisation too, call :func:`bctrace.ml.seed_everything` (or open the run
        with ``tracer.run(..., seed=...)``) before building the model.
    """

    # -- hooks ------------------------------------------------------------------------------

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.is_global_zero:
            self._binding.open(self.name or type(pl_module).__name__, _hparams(trainer, pl_module))

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        run = self._active(trainer)
        if run is None or trainer.sanity_checking:
            return
        if trainer.callback_metrics:
            run.log_metrics(dict(trainer.callback_metrics), step=trainer.current_epoch)
        if self.checkpoints:
            run.checkpoint(step=trainer.global_step)

    def on_test_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """``trainer.test`` inside an open run (``with tracer.run(...)``) adds the test metrics."""
        run = self._active(trainer) or current_run()
        if run is not None and trainer.is_global_zero and trainer.callback_metrics:
            run.log_metrics(dict(trainer.callback_metrics))

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        run = self._active(trainer)
        if run is None:
            return
        run.log_model(pl_module, name="model")
        for path in _checkpoint_files(trainer):
            run.log_artifact(path, name=f"checkpoint:{Path(path).name}")
        self._binding.close()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if self._active(trainer) is not None:
            self._binding.close(exception)

    def _active(self, trainer: pl.Trainer) -> Run | None:
        run = self._binding.run
        return run if trainer.is_global_zero and run is not None and run.status is None else None


def _hparams(trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, Any]:
    params: dict[str, Any] = dict(_plain(pl_module.hparams))
    datamodule = getattr(trainer, "datamodule", None)
    if datamodule is not None and getattr(datamodule, "hparams", None):
        params.update({f"data.{k}": v for k, v in _plain(datamodule.hparams).items()})
    for key in TRAINER_SETTINGS:
        value = getattr(trainer, key, None)
        if value is not None:
            params[f"trainer.{key}"] = value if isinstance(value, (bool, int, float, str)) else str(value)
    params["trainer.strategy"] = type(trainer.strategy).__name__
    return params


def _plain(hparams: Mapping[str, Any]) -> dict[str, Any]:
    """Hyper-parameters as JSON-friendly values (a nested module or callable by its class name)."""
    out: dict[str, Any] = {}
    for key, value in hparams.items():
        if isinstance(value, Mapping):
            value = _plain(value)
        elif not isinstance(value, (bool, int, float, str, list, tuple, type(None))):
            value = f"{type(value).__module__}.{type(value).__qualname__}"
        out[str(key)] = value
    return out


def _checkpoint_files(trainer: pl.Trainer) -> list[str]:
    """Files ``ModelCheckpoint`` callbacks wrote (best and last), each once, in a stable order."""
    found: list[str] = []
    for cb in trainer.checkpoint_callbacks:
        for attr in ("best_model_path", "last_model_path"):
            path = getattr(cb, attr, "")
            if path and Path(path).is_file() and path not in found:
                found.append(path)
    return found
