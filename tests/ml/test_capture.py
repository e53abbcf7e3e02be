"""Capture of code and environment against real git repositories in a temp folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bctrace.ml.capture import _script_of, capture_code, capture_environment



def git(repo: Path, *args: str) -> None:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x",
           "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_SYSTEM": "/dev/null", "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    r.mkdir()
    (r / "train.py").write_text("print(1)\n")
    git(r, "init", "-q", "-b", "dev")
    return r


def test_git_state_tracks_commits_changes_and_untracked_sources(repo: Path) -> None:
    g = capture_code(repo, argv=["python", "train.py"])["git"]
    assert g["commit"] is None and g["branch"] == "dev" and g["remote"] is None  # no commit yet
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one")
    git(repo, "remote", "add", "origin", "https://bob:ghp_secret@github.com/lab/x.git")
    clean = capture_code(repo, argv=["python", "train.py"])["git"]
    assert len(clean["commit"]) == 40 and not clean["dirty"] and clean["diff_sha256"] is None
    assert clean["remote"] == "https://github.com/lab/x.git"

    (repo / "train.py").write_text("print(2)\n")
    (repo / "util.py").write_text("X = 1\n")
    (repo / "data.csv").write_text("a\n1\n")  # data is declared as an input, not code
    (repo / ".bctrace").mkdir()
    (repo / ".bctrace" / "x.py").write_text("")  # bctrace's own state never counts
    dirty = capture_code(repo, argv=["python", "train.py"])["git"]
    assert dirty["dirty"] and dirty["changed_files"] == 1 and dirty["diff_sha256"].startswith("0x")
    assert [u["path"] for u in dirty["untracked_sources"]] == ["util.py"]
    (repo / "train.py").write_text("print(3)\n")
    (repo / "util.py").write_text("X = 2\n")
    again = capture_code(repo, argv=["python", "train.py"])["git"]
    assert again["diff_sha256"] != dirty["diff_sha256"] and again["untracked_sha256"] != dirty["untracked_sha256"]


def test_outside_git_and_entry_point(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("pass\n")
    (tmp_path / "cfg.yaml").write_text("lr: 1\n")
    code = capture_code(tmp_path, argv=[sys.executable, "-u", str(tmp_path / "train.py"), "--config", str(tmp_path / "cfg.yaml"), f"--other={tmp_path / 'cfg.yaml'}"])
    assert code["git"] is None
    assert code["entry_point"]["script"] == "train.py" and code["entry_point"]["sha256"].startswith("0x")
    assert [c["path"] for c in code["config_files"]] == ["cfg.yaml", "cfg.yaml"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["python", "train.py", "-x"], ("train.py", None)),
        (["python3.11", "-X", "dev", "-u", "t.py"], ("t.py", None)),
        (["python", "-m", "pkg.train", "--lr", "1"], (None, "pkg.train")),
        (["python", "-c", "print(1)"], (None, None)),
        (["./train.sh", "a"], ("./train.sh", None)),
    ],
)
def test_script_of(argv: list[str], expected: tuple[str | None, str | None]) -> None:
    assert _script_of(argv) == expected


def test_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "uv.lock").write_text("version = 1\n")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.setenv("BCTRACE_IMAGE_DIGEST", "sha256:" + "ab" * 32)
    env = capture_environment(tmp_path)
    assert env["env_vars"]["OMP_NUM_THREADS"] == "3"
    assert env["container"]["image_digest"] == "sha256:" + "ab" * 32
    assert env["lockfiles"][0]["path"] == "uv.lock" and env["lockfiles"][0]["sha256"].startswith("0x")
    assert env["packages"]["pluggy"] and env["packages_sha256"].startswith("0x")
    assert env["python"]["implementation"] == sys.implementation.name.replace("cpython", "CPython")
    if "torch" not in sys.modules:
        assert env["torch"] is None  # never imported just to capture
