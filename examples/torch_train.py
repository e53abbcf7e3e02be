"""Train a tiny MLP with PyTorch on CPU on the bundled CSV data; deterministic given the seed.

Runs as is, or recorded by bctrace without any change to this file:

    bctrace ml run --seed 1 --input data/train.csv:train --input data/test.csv:test \
        --model model.pt --metrics metrics.json -- python torch_train.py
    bctrace ml reproduce .bctrace/runs/<run-id>/ -- python torch_train.py
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

HERE = Path(__file__).resolve().parent


def load(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
    return torch.from_numpy(data[:, :-1]), torch.from_numpy(data[:, -1]).long()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=HERE / "data" / "train.csv")
    parser.add_argument("--test", type=Path, default=HERE / "data" / "test.csv")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("BCTRACE_SEED", "0")))
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--model-out", type=Path, default=Path("model.pt"))
    parser.add_argument("--metrics-out", type=Path, default=Path("metrics.json"))
    args = parser.parse_args()

    try:  # optional: records which seeds were set when run under `bctrace ml run`
        from bctrace.ml import seed_everything

        seed_everything(args.seed)  # torch is already imported, so it is seeded too
    except ImportError:
        torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # a model this small only loses time to thread hand-offs

    x_train, y_train = load(args.train)
    x_test, y_test = load(args.test)
    mean, std = x_train.mean(0), x_train.std(0)  # fitted on the training split only
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

    model = nn.Sequential(nn.Linear(x_train.shape[1], 16), nn.ReLU(), nn.Linear(16, 2))
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(args.seed)
    epoch_loss = []
    for _ in range(args.epochs):
        order = torch.randperm(len(x_train), generator=generator)
        for batch in order.split(48):
            optimiser.zero_grad()
            loss = loss_fn(model(x_train[batch]), y_train[batch])
            loss.backward()
            optimiser.step()
        epoch_loss.append(loss.item())  # a list in metrics.json: one value per step (epoch)

    model.eval()
    with torch.no_grad():
        test_logits = model(x_test)
        metrics = {
            "train_loss": float(loss_fn(model(x_train), y_train)),
            "test_loss": float(loss_fn(test_logits, y_test)),
            "test_accuracy": float((test_logits.argmax(1) == y_test).float().mean()),
            "epoch_loss": epoch_loss,
        }
    torch.save(model.state_dict(), args.model_out)
    args.metrics_out.write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
