"""Every field the ML-core issue lists is present in the record of a wrapped run of the torch
example, in a git repository with a local change, an untracked source file and a lockfile."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from bctrace.ml.compare import load_run, run_view

pytestmark = [pytest.mark.slow]


def git(repo: Path, *args: str) -> None:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x",
           "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_SYSTEM": "/dev/null", "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def test_every_listed_field_is_captured(ml_project: Path, bctrace_cli: Callable[..., Any]) -> None:
    (ml_project / "requirements.txt").write_text("torch==2.13.0\nnumpy\n")
    (ml_project / ".gitignore").write_text(".bctrace/\n")
    git(ml_project, "init", "-q", "-b", "main")
    git(ml_project, "remote", "add", "origin", "https://user:s3cret@example.org/lab/model.git")
    git(ml_project, "add", ".")
    git(ml_project, "commit", "-q", "-m", "initial")
    with (ml_project / "torch_train.py").open("a") as fh:
        fh.write("# local change\n")
    (ml_project / "helpers.py").write_text("X = 1\n")  # untracked source
    (ml_project / "settings.toml").write_text("lr = 0.02\n")

    res = bctrace_cli(
        "ml", "run", "--seed", "5", "--input", "data/train.csv:train", "--input", "data/test.csv:test",
        "--model", "model.pt", "--metrics", "metrics.json", "--output", "metrics.json", "--param", "epochs=40",
        "--declare", "dataset_license=CC0-1.0", "--declare", "dataset_source=examples/data (synthetic)",
        "--declare", "split_method=first 240 rows train, last 60 test", "--declare", "n_runs=1",
        "--leakage", "duplicates_across_splits=checked", "--leakage", "temporal_leakage=not-applicable", "--leakage", "sampling_bias=unknown",
        "--", sys.executable, "torch_train.py", "--epochs", "40",
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "s3cret" not in res.stdout + res.stderr
    run = load_run(Path(re.search(r"end bundle: (\S+)", res.stderr).group(1)))
    for path in run.paths:
        assert "s3cret" not in path.read_text()
    assert [s.record["body"]["step"] for s in run.steps] == ["start", "end"]
    assert run.steps[0].anchors and run.steps[-1].anchors
    v = run_view(run.start, run.end)

    # identity
    assert v["run_id"] == run.run_id and v["name"] == "torch_train"
    assert v["started"] and v["ended"] and v["wall_time_s"] > 0

    # code
    g = v["code"]["git"]
    assert re.fullmatch(r"[0-9a-f]{40}", g["commit"]) and g["branch"] == "main"
    assert g["remote"] == "https://example.org/lab/model.git"
    assert g["dirty"] and g["changed_files"] == 1 and g["diff_sha256"].startswith("0x")
    assert [u["path"] for u in g["untracked_sources"]] == ["helpers.py", "settings.toml"]
    assert g["untracked_sha256"].startswith("0x")
    assert v["code"]["entry_point"]["script"] == "torch_train.py" and v["code"]["entry_point"]["sha256"].startswith("0x")
    assert v["code"]["argv"] == [sys.executable, "torch_train.py", "--epochs", "40"]
    assert v["code"]["config_files"] == []  # (named config files: see test_capture.py)

    # environment
    env = v["environment"]
    assert env["python"]["version"] and env["python"]["implementation"] == "CPython"
    assert env["os"]["system"] == "Linux" and env["libc"]["name"]
    assert env["packages"]["torch"].startswith("2.13.0") and "numpy" in env["packages"] and "bctrace" in env["packages"]
    assert [lf["path"] for lf in env["lockfiles"]] == ["requirements.txt"]
    assert set(env["container"]) == {"detected", "runtime", "image", "image_digest"}
    assert set(env["env_vars"]) >= {"PYTHONHASHSEED", "CUBLAS_WORKSPACE_CONFIG", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "CUDA_VISIBLE_DEVICES"}
    assert env["hardware"]["cpu_model"] and env["hardware"]["ram_bytes"] > 0 and "gpus" in env["hardware"]
    assert env["threadpools"], "thread pools are reported from inside the training process"
    assert env["torch"]["version"].startswith("2.13.0") and {"cuda_build", "cudnn", "cuda_available", "devices"} <= set(env["torch"])

    # randomness, as reported from inside the process
    r = v["randomness"]
    assert r["seeded"]["seed"] == 5 and r["seeded"]["python"] == 5 and r["seeded"]["numpy"] == 5 and r["seeded"]["torch"] == 5
    assert r["seeded"]["pythonhashseed"]["effective"] is True  # the wrapper set it before Python started
    assert r["PYTHONHASHSEED"] == "5" and "hash_randomization" in r and "CUBLAS_WORKSPACE_CONFIG" in r
    t = r["torch"]
    assert t["deterministic_algorithms"] is True  # the example turns it on
    assert {"cudnn_deterministic", "cudnn_benchmark", "float32_matmul_precision", "cuda_matmul_allow_tf32", "cudnn_allow_tf32"} <= set(t)
    assert v["seed"] == 5 and v["process"]["instrumented"] is True

    # data, outputs, model, results
    assert [(i["name"], i["role"]) for i in v["inputs"]] == [("data/train.csv", "train"), ("data/test.csv", "test")]
    assert all(i["sha256"].startswith("0x") and i["size"] > 0 for i in v["inputs"])
    assert v["outputs"][0]["name"] == "metrics.json"
    (model,) = v["models"]
    assert model["method"] == "torch-state-dict-v1" and model["tensors"] == 4 and model["file_sha256"] != model["sha256"]
    assert set(v["metrics"]) == {"train_loss", "test_loss", "test_accuracy", "epoch_loss"}
    per_epoch = [h for h in v["metric_history"] if h["step"] is not None]  # a list in metrics.json: one value per epoch
    assert len(per_epoch) == 40 and per_epoch[-1]["metrics"]["epoch_loss"] == v["metrics"]["epoch_loss"]
    assert v["params"] == {"epochs": 40}
    assert v["status"] == "ok" and v["process"]["exit_code"] == 0
    subjects = {s["name"] for s in run.steps[-1].record["subjects"]}
    assert subjects == {"input:data/train.csv", "input:data/test.csv", "output:metrics.json", "model:model.pt"}

    # checklist
    items = {i["id"]: i for i in v["checklist"]["items"]}
    assert items["code.commit"]["status"] == "ok" and items["env.lockfile"]["status"] == "ok"
    assert items["random.determinism"]["status"] == "ok"
    assert items["declared.n_runs"]["value"] == 1
    assert items["leakage.temporal_leakage"]["status"] == "ok" and items["leakage.sampling_bias"]["status"] == "unknown"
    assert items["leakage.illegitimate_features"]["status"] == "undeclared"
    assert v["checklist"]["satisfied"] == 13 + 4 + 2 and v["checklist"]["applicable"] == 25

    res = bctrace_cli("ml", "report", str(run.paths[-1]))
    assert res.returncode == 0, res.stderr
    assert "Reproducibility checklist: 19/25 (76 %)" in res.stdout
    assert "torch-state-dict-v1" in res.stdout and "anchors (local)" in res.stdout
