"""PyTorch Lightning integration: real Trainer.fit runs on CPU with BctraceCallback, recorded,
anchored on the local ledger and verified."""

from __future__ import annotations

import hashlib
from pathlib import Path

import lightning.pytorch as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from bctrace.ml.integrations.lightning import BctraceCallback
from bctrace.ml.model_hash import hash_model


class TinyModel(L.LightningModule):
    def __init__(self, hidden: int = 8, lr: float = 0.1, fail_at: int | None = None) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2))

    def training_step(self, batch, batch_idx):
        if self.hparams.fail_at is not None and self.global_step == self.hparams.fail_at:
            raise RuntimeError("diverged")
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self.net(x), y)
        self.log("train_loss", loss, on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", torch.nn.functional.cross_entropy(self.net(x), y))

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_acc", (self.net(x).argmax(dim=1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def _loader() -> DataLoader:
    g = torch.Generator().manual_seed(0)
    X = torch.randn(32, 4, generator=g)
    return DataLoader(TensorDataset(X, (X.sum(dim=1) > 0).long()), batch_size=8)


def _trainer(tmp_path: Path, callback: BctraceCallback, **kw) -> L.Trainer:
    ckpt = L.callbacks.ModelCheckpoint(dirpath=tmp_path / "ckpt", monitor="val_loss", save_last=True)
    return L.Trainer(
        max_epochs=2, accelerator="cpu", devices=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
        num_sanity_val_steps=0, callbacks=[callback, ckpt], default_root_dir=tmp_path, deterministic=True, **kw,
    )


def test_fit_opens_a_run_and_records_params_epochs_checkpoints_model(tracer, anchor_and_verify, tmp_path) -> None:
    callback = BctraceCallback("tiny", tracer=tracer, checkpoints=True, seed=1)
    model = TinyModel(hidden=8, lr=0.05)
    _trainer(tmp_path, callback).fit(model, _loader(), _loader())
    run = callback.run
    bundles = anchor_and_verify(run)
    bodies = [b.record["body"] for b in bundles]

    assert [b["step"] for b in bodies] == ["start", "checkpoint", "checkpoint", "end"]
    start, end = bodies[0], bodies[-1]
    assert start["name"] == "tiny" and start["seed"] == 1
    assert start["params"]["hidden"] == 8 and start["params"]["lr"] == 0.05
    assert start["params"]["trainer.max_epochs"] == 2 and start["params"]["trainer.precision"] == "32-true"
    assert start["params"]["trainer.strategy"] == "SingleDeviceStrategy"
    assert [b["training_step"] for b in bodies[1:3]] == [4, 8]  # 4 batches per epoch
    assert set(bodies[1]["metrics"]) == {"train_loss", "val_loss"}
    assert run.history[0]["step"] == 0 and run.history[1]["step"] == 1 and len(run.history) == 2
    assert end["status"] == "ok"
    assert end["metrics"]["val_loss"] == pytest.approx(float(_val_loss(model)), rel=1e-5)
    assert end["models"] == [{"name": "model", **hash_model(model)}]
    outputs = {o["name"]: o for o in end["outputs"]}
    assert set(outputs) == {"checkpoint:last.ckpt", next(n for n in outputs if n != "checkpoint:last.ckpt")}
    last = tmp_path / "ckpt" / "last.ckpt"
    assert outputs["checkpoint:last.ckpt"]["sha256"] == "0x" + hashlib.sha256(last.read_bytes()).hexdigest()


def _val_loss(model: TinyModel) -> torch.Tensor:
    with torch.no_grad():
        losses = [torch.nn.functional.cross_entropy(model.net(x), y) for x, y in _loader()]
    return torch.stack(losses).mean()


def test_fit_and_test_inside_an_open_run_attach_to_it(tracer, anchor_and_verify, tmp_path) -> None:
    callback = BctraceCallback()  # no tracer: it must attach, not build its own
    with tracer.run("outer", params={"suite": "a"}) as run:
        trainer = _trainer(tmp_path, callback)
        model = TinyModel()
        trainer.fit(model, _loader(), _loader())
        assert run.status is None  # the callback does not end a run it did not open
        trainer.test(model, _loader(), verbose=False)
    bodies = [b.record["body"] for b in anchor_and_verify(run)]
    assert [b["step"] for b in bodies] == ["start", "end"]
    assert bodies[-1]["params"]["suite"] == "a" and bodies[-1]["params"]["hidden"] == 8
    assert "test_acc" in bodies[-1]["metrics"] and "val_loss" in bodies[-1]["metrics"]
    assert bodies[-1]["models"][0]["sha256"] == hash_model(model)["sha256"]


def test_a_failing_fit_ends_its_run_as_failed_and_flushes(tracer, tmp_path) -> None:
    callback = BctraceCallback(tracer=tracer, flush=True)
    with pytest.raises(RuntimeError, match="diverged"):
        _trainer(tmp_path, callback).fit(TinyModel(fail_at=5), _loader(), _loader())
    assert callback.flushed is not None and callback.flushed.records == 2  # start and end, anchored
    assert [r.record.body["step"] for r in callback.run.recorded] == ["start", "end"]
    end = tracer.bundle(callback.run.recorded[-1].digest)
    assert tracer.verify(end).ok
    assert end.record["body"]["status"] == "failed" and end.record["body"]["error"] == {"type": "RuntimeError", "message": "diverged"}
