"""Hugging Face transformers integration: a tiny randomly initialised BERT (built from a config,
nothing downloaded) trained for a few steps by the real Trainer on CPU, recorded, anchored and
verified."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

from bctrace._internal.hashing import subject_for_path
from bctrace.ml.integrations.transformers import BctraceCallback
from bctrace.ml.model_hash import hash_model


class TinyTextDataset(torch.utils.data.Dataset):
    def __init__(self, n: int = 16) -> None:
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(1, 50, (n, 12), generator=g)
        self.labels = (self.ids[:, 0] > 25).long()

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "attention_mask": torch.ones(12, dtype=torch.long), "labels": self.labels[i]}


def _model() -> BertForSequenceClassification:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32, max_position_embeddings=16, num_labels=2)
    return BertForSequenceClassification(config)


def _train(tmp_path: Path, callback: BctraceCallback, max_steps: int = 4) -> BertForSequenceClassification:
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=max_steps, per_device_train_batch_size=4, per_device_eval_batch_size=8,
        learning_rate=1e-3, logging_steps=1, save_strategy="steps", save_steps=2, eval_strategy="steps", eval_steps=2,
        report_to=[], use_cpu=True, seed=0, disable_tqdm=True, hub_token="hf_secret_never_recorded",
    )
    model = _model()
    Trainer(model=model, args=args, train_dataset=TinyTextDataset(), eval_dataset=TinyTextDataset(8), callbacks=[callback]).train()
    return model


def test_trainer_run_is_recorded_with_args_config_logs_checkpoints_model(tracer, anchor_and_verify, tmp_path) -> None:
    callback = BctraceCallback("tiny-bert", tracer=tracer, checkpoints=True)
    model = _train(tmp_path, callback)
    run = callback.run
    bodies = [b.record["body"] for b in anchor_and_verify(run)]

    assert [b["step"] for b in bodies] == ["start", "checkpoint", "checkpoint", "end"]
    start, end = bodies[0], bodies[-1]
    assert start["params"]["args.learning_rate"] == 1e-3 and start["params"]["args.max_steps"] == 4
    assert start["params"]["model.num_hidden_layers"] == 2 and start["params"]["model.hidden_size"] == 16
    assert start["params"]["args.hub_token"] == "<HUB_TOKEN>"
    assert "hf_secret_never_recorded" not in str(run.recorded[0].record.canonical_bytes())

    assert [b["training_step"] for b in bodies[1:3]] == [2, 4]
    ckpt = tmp_path / "out" / "checkpoint-2"
    assert bodies[1]["artifact"]["sha256"] == subject_for_path(ckpt)[0].sha256 and bodies[1]["artifact"]["kind"] == "folder"
    assert "eval_loss" in bodies[1]["metrics"]

    logged_steps = sorted({h["step"] for h in run.history})
    assert logged_steps == [1, 2, 3, 4]  # logging_steps=1, plus the end-of-training summary at step 4
    assert {"loss", "eval_loss", "train_loss", "learning_rate"} <= set(end["metrics"])
    assert end["models"] == [{"name": "model", **hash_model(model)}] and end["status"] == "ok"


def test_training_inside_an_open_run_attaches_to_it(tracer, anchor_and_verify, tmp_path) -> None:
    with tracer.run("outer", seed=0) as run:
        model = _train(tmp_path, BctraceCallback(), max_steps=2)
        assert run.status is None
    bodies = [b.record["body"] for b in anchor_and_verify(run)]
    assert [b["step"] for b in bodies] == ["start", "end"]
    assert bodies[-1]["params"]["args.max_steps"] == 2
    assert bodies[-1]["models"][0]["sha256"] == hash_model(model)["sha256"]
