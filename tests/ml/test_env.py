"""`bctrace ml env` turns a recorded environment back into a requirements file that pip accepts
on this machine (every pin resolved from the package index, torch pinned to the CPU build), and
`bctrace ml reproduce` names the installed versions that differ before it re-runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bctrace.ml.envfile import version_changes

pytestmark = pytest.mark.slow
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]


def pip_target(folder: Path, requirement: str) -> None:
    """A real install of another version of a small package into its own folder, put first on
    PYTHONPATH when bctrace runs: the recorded environment then holds that version."""
    subprocess.run([*PIP, "install", "-q", "--no-deps", "--target", str(folder), requirement], check=True, capture_output=True, timeout=300)


def test_env_file_installs_and_reproduce_names_a_changed_version(ml_project: Path, bctrace_bin: Path, tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    pip_target(old, "iniconfig==2.0.0")
    pip_target(new, "iniconfig==2.1.0")
    env = {**os.environ, "PYTHONPATH": str(old)}
    env.pop("PYTHONHASHSEED", None)
    args = ["ml", "run", "--seed", "1", "--model", "model.joblib", "--metrics", "metrics.json", "--", sys.executable, "sklearn_train.py"]
    res = subprocess.run([str(bctrace_bin), *args], cwd=ml_project, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    end = re.search(r"end bundle: (\S+)", res.stderr).group(1)

    res = subprocess.run([str(bctrace_bin), "ml", "env", end, "-o", "req.txt"], cwd=ml_project, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    text = (ml_project / "req.txt").read_text()
    assert f"# Python {sys.version.split()[0]} (CPython) on Linux" in text
    assert "\niniconfig==2.0.0\n" in text and "\ntorch==2.13.0+cpu\n" in text and "\nscikit-learn==" in text
    assert re.search(r"^# bctrace==\S+ was installed from an editable folder", text, re.M)  # not on any index: a comment
    # pip resolves every pin from the index, as a fresh environment would (installed ones ignored)
    dry = subprocess.run([*PIP, "install", "--dry-run", "--ignore-installed", "--quiet", "--report", "-", "-r", "req.txt"],
                         cwd=ml_project, capture_output=True, text=True, timeout=540)
    assert dry.returncode == 0, dry.stderr[-3000:]
    chosen = {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in json.loads(dry.stdout)["install"]}
    assert chosen["torch"] == "2.13.0+cpu" and chosen["iniconfig"] == "2.0.0"
    assert not any(name.startswith("nvidia") for name in chosen)  # no CUDA build was pulled in

    env["PYTHONPATH"] = str(new)
    res = subprocess.run([str(bctrace_bin), "ml", "reproduce", end], cwd=ml_project, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    before_rerun = res.stdout.split("REPRODUCED")[0]
    assert "installed packages that differ from the recorded run (1):\n  ~ iniconfig 2.0.0 -> 2.1.0 (minor)" in before_rerun


def test_version_change_levels() -> None:
    got = version_changes({"a": "1.2.3", "b": "1.2.3", "c": "1.2.3", "d": "2.13.0+cpu", "gone": "1"}, {"a": "2.0", "b": "1.3.0", "c": "1.2.4", "d": "2.13.0", "new": "0.1"})
    assert [(g["name"], g["change"]) for g in got] == [("a", "major"), ("b", "minor"), ("c", "patch"), ("d", "build"), ("gone", "removed"), ("new", "added")]
