"""stamp --git against real git repositories made in a temp folder."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from bctrace import Tracer
from bctrace._internal.config import load_config
from bctrace.errors import UsageError
from bctrace._internal.gitstate import git_state, strip_credentials

def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x",
           "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_SYSTEM": "/dev/null", "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "proj"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    (r / ".gitignore").write_text("*.log\n")
    (r / "train.py").write_text("print('train')\n")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "first")
    git(r, "remote", "add", "origin", "https://alice:ghp_secret@example.org/alice/proj.git")
    return r


def test_clean_repository(repo: Path) -> None:
    state = git_state(repo)
    assert state["commit"] == git(repo, "rev-parse", "HEAD")
    assert state["tree"] == git(repo, "rev-parse", "HEAD^{tree}")
    assert state["branch"] == "main"
    assert state["remote"] == "https://example.org/alice/proj.git"
    assert state["dirty"] is False and state["untracked"] == [] and state["diff_size"] == 0


def test_uncommitted_changes_and_untracked_files(repo: Path) -> None:
    (repo / "train.py").write_text("print('changed')\n")
    (repo / "notes.txt").write_text("n\n")
    (repo / "run.log").write_text("ignored\n")
    state = git_state(repo)
    diff = subprocess.run(["git", "-C", str(repo), "diff", "HEAD", "--binary", "--no-ext-diff", "--no-color"], capture_output=True, check=True).stdout
    assert state["dirty"] is True
    assert state["diff_sha256"] == "0x" + hashlib.sha256(diff).hexdigest() and state["diff_size"] == len(diff) > 0
    assert state["untracked"] == [{"path": "notes.txt", "size": 2, "sha256": "0x" + hashlib.sha256(b"n\n").hexdigest()}]
    before = state["diff_sha256"]
    (repo / "train.py").write_text("print('changed again')\n")
    assert git_state(repo)["diff_sha256"] != before


def test_stamp_git_records_and_anchors(repo: Path, tmp_path: Path) -> None:
    with Tracer(load_config(cwd=tmp_path)) as tracer:
        recorded = tracer.stamp_git(repo)
        tracer.flush()
    state = recorded.record.body["git"]
    assert recorded.record.kind == "git" and state["commit"] == git(repo, "rev-parse", "HEAD")
    tar = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", state["commit"]], capture_output=True, check=True).stdout
    subject = recorded.record.subjects[0]
    assert subject.sha256 == "0x" + hashlib.sha256(tar).hexdigest() and subject.size == len(tar)
    assert (tmp_path / "proj.git.bctrace.json").exists()
    assert "ghp_secret" not in (tmp_path / "proj.git.bctrace.json").read_text()
    with Tracer(load_config(cwd=tmp_path)) as tracer:
        assert tracer.stamp_git(repo, archive=False).record.subjects == ()


def test_not_a_repository_and_no_commit(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not inside a git repository"):
        git_state(tmp_path)
    git(tmp_path, "init", "-q")
    with pytest.raises(UsageError, match="has no commit yet"):
        git_state(tmp_path)


def test_strip_credentials() -> None:
    assert strip_credentials("https://u:p@host:8443/x.git") == "https://host:8443/x.git"
    assert strip_credentials("git@github.com:a/b.git") == "git@github.com:a/b.git"
    assert strip_credentials("/srv/repo") == "/srv/repo"


def test_bctrace_state_and_bundles_are_not_code_state(repo: Path) -> None:
    (repo / ".bctrace").mkdir()
    (repo / ".bctrace" / "outbox.sqlite").write_bytes(b"x")
    (repo / "data.csv.bctrace.json").write_text("{}")
    (repo / "notes.md").write_text("n")
    assert [u["path"] for u in git_state(repo)["untracked"]] == ["notes.md"]


def test_verify_repo_finds_the_bundle_stamp_git_wrote_and_checks_the_state(repo: Path, cli, monkeypatch) -> None:
    monkeypatch.chdir(repo.parent)
    stamped = cli("stamp", "--git", "proj")
    assert stamped.exit_code == 0, stamped.output
    assert f"bundle {repo.parent / 'proj.git.bctrace.json'}" in stamped.output
    assert cli("verify", "proj").exit_code == 0
    (repo / "train.py").write_text("print('changed')\n")
    changed = cli("verify", "proj")
    assert changed.exit_code == 1 and "proj is not in its recorded state: the uncommitted changes differ" in changed.output
    git(repo, "commit", "-qam", "second")
    moved = cli("verify", "proj")
    assert moved.exit_code == 1 and f"HEAD is {git(repo, 'rev-parse', 'HEAD')}, the record says" in moved.output


def test_stamp_and_verify_of_the_current_folder(tmp_path: Path, cli, monkeypatch) -> None:
    folder = tmp_path / "here"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (tmp_path / "bctrace.toml").write_text('state_dir = "state"\n')  # found upwards; state outside the folder
    monkeypatch.chdir(folder)
    assert cli("stamp", ".").exit_code == 0
    assert (tmp_path / "here.bctrace.json").is_file()
    assert cli("verify", ".").exit_code == 0
    monkeypatch.chdir(folder.parent)
    assert cli("verify", "here").exit_code == 0
