"""Overhead of the ML framework integrations (bctrace.ml.integrations).

Method (CPU, this machine; median of REPEATS runs after one warm-up):
1. ``hash_array`` throughput on a 256 MiB float32 array (C order, then Fortran order, which needs
   a contiguous copy first) — the cost of fingerprinting in-memory training data in ``sklearn.fit``.
2. PyTorch Lightning: wall time (min of REPEATS, the least disturbed by other load) of
   ``Trainer.fit`` of a tiny model for EPOCHS epochs without the callback, with
   ``BctraceCallback()`` and with ``checkpoints=True``; then what the callback adds, timed
   directly: a run's start + end, and per epoch one ``log_metrics`` (median of 200) and, with
   ``checkpoints=True``, one checkpoint record (median of 50: a durable outbox write).
3. MLflow: ``anchor_run`` of a run with 5 metrics x 200 steps, 20 params and 20 artifact files on a
   local SQLite store (reading the run, hashing the artifacts, one record, flush on the local
   ledger, tags and bundle written back).

Run: ``.venv/bin/python benchmarks/bench_ml_integrations.py``
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

REPEATS = 5
EPOCHS = 20


def timed(fn, repeats: int = REPEATS, pick=statistics.median) -> float:
    fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return pick(samples)


def bench_hash_array() -> None:
    import numpy as np

    from bctrace.ml.integrations.data import hash_array

    arr = np.random.default_rng(0).random((8192, 8192), dtype=np.float32)
    mib = arr.nbytes / 2**20
    for label, data in (("C order", arr), ("Fortran order", np.asfortranarray(arr))):
        t = timed(lambda: hash_array(data))
        print(f"hash_array {mib:.0f} MiB float32, {label}: {t * 1000:.0f} ms = {mib / 1024 / t:.2f} GiB/s")


def bench_lightning(root: Path) -> None:
    import logging

    import lightning.pytorch as L
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from bctrace import Tracer
    from bctrace.ml.integrations.lightning import BctraceCallback

    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)

    class Tiny(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Linear(8, 2)

        def training_step(self, batch, _):
            x, y = batch
            loss = torch.nn.functional.cross_entropy(self.net(x), y)
            self.log("loss", loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    X = torch.randn(64, 8)
    loader = DataLoader(TensorDataset(X, (X[:, 0] > 0).long()), batch_size=16)

    def fit(callbacks: list) -> None:
        L.Trainer(max_epochs=EPOCHS, logger=False, enable_progress_bar=False, enable_model_summary=False,
                  enable_checkpointing=False, callbacks=callbacks, default_root_dir=root).fit(Tiny(), loader)

    with Tracer.from_config(cwd=root) as tracer:
        plain = timed(lambda: fit([]), pick=min)
        traced = timed(lambda: fit([BctraceCallback(tracer=tracer)]), pick=min)
        checkpointed = timed(lambda: fit([BctraceCallback(tracer=tracer, checkpoints=True)]), pick=min)
        lifecycle = timed(lambda: tracer.run("bench").end())
        run = tracer.run("hooks")
        metrics = timed(lambda: run.log_metrics({"loss": torch.tensor(0.5), "val_loss": torch.tensor(0.6)}, step=1), repeats=200)
        checkpoint = timed(lambda: run.checkpoint(step=1), repeats=50)
        run.end()
    print(f"Lightning fit, {EPOCHS} epochs (min of {REPEATS}): {plain * 1000:.0f} ms plain, {traced * 1000:.0f} ms with BctraceCallback, "
          f"{checkpointed * 1000:.0f} ms with checkpoints=True")
    print(f"  run start+end (two durable records, code/environment capture included): {lifecycle * 1000:.1f} ms")
    print(f"  per epoch: log_metrics {metrics * 1000:.3f} ms; checkpoint record {checkpoint * 1000:.2f} ms (medians)")


def bench_mlflow(root: Path) -> None:
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
    import mlflow
    from mlflow.entities import Metric, Param

    from bctrace import Tracer
    from bctrace.ml.integrations.mlflow import anchor_run

    client = mlflow.MlflowClient()
    experiment = client.create_experiment("bench", artifact_location=(root / "artifacts").as_uri())
    files = root / "files"
    files.mkdir()
    for i in range(20):
        (files / f"a{i}.bin").write_bytes(os.urandom(64 * 1024))
    run = client.create_run(experiment)
    run_id = run.info.run_id
    now = int(time.time() * 1000)
    metrics = [Metric(f"m{k}", float(s), now + s, s) for k in range(5) for s in range(200)]
    for i in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[i:i + 1000], params=[Param(f"p{j}", str(j)) for j in range(20)] if i == 0 else [])
    client.log_artifacts(run_id, str(files))
    client.set_terminated(run_id)
    with Tracer.from_config(cwd=root) as tracer:
        t = timed(lambda: anchor_run(run_id, tracer=tracer, client=client))
    print(f"MLflow anchor_run (5 metrics x 200 steps, 20 params, 20 x 64 KiB artifacts, SQLite store): {t * 1000:.0f} ms")


def main() -> None:
    bench_hash_array()
    with tempfile.TemporaryDirectory() as tmp:
        bench_lightning(Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        bench_mlflow(Path(tmp))


if __name__ == "__main__":
    main()
