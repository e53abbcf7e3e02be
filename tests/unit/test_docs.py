"""The documentation stays true: every hook has its README section, every renamed command is in
the CHANGELOG and its old spelling still works, and the README's runnable shell examples run."""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bctrace._internal import hookspecs

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
CHANGELOG = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("bctrace_") and callable(getattr(hookspecs, name)))


def test_hooks_are_found():
    assert {"bctrace_register_backends", "bctrace_register_stores", "bctrace_register_commands"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_readme_section(hook):
    assert re.search(rf"^#### `{hook}\(", README, re.M), f"README has no '#### `{hook}(...)`' section"
    spec = getattr(hookspecs, hook)
    assert spec.__doc__, f"{hook} has no docstring"
    for param in inspect.signature(spec).parameters:
        assert f":param {param}:" in spec.__doc__, f"{hook} does not document its parameter {param}"
    assert inspect.signature(spec).return_annotation == "None" or ":returns:" in spec.__doc__, f"{hook} does not document what it returns"


# -- renamed commands ------------------------------------------------------------------------


def renamed_commands() -> list[tuple[str, str]]:
    section = CHANGELOG.split("### Renamed commands", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"^\| `bctrace ([^`]+)` \| `bctrace ([^`]+)` \|", section, re.M)


def test_changelog_lists_every_deprecated_alias(cli):
    from bctrace._internal.plugin_manager import command_registry
    from bctrace._internal.registry import CommandRegistry

    aliases = command_registry(core=CommandRegistry()).aliases
    listed = dict(renamed_commands())
    assert aliases, "no deprecated spelling registered"
    for old, new in aliases.items():
        assert listed.get(old) == new, f"CHANGELOG.md does not list `bctrace {old}` -> `bctrace {new}`"


@pytest.mark.parametrize("old,new", [pair for pair in renamed_commands() if "-" not in pair[0].split()[-1][:1] and "--" not in pair[0]])
def test_old_spelling_still_works_with_a_deprecation_line(old, new, cli):
    result = cli(*old.split(), "--help")
    assert result.exit_code == 0, result.output
    assert f"'bctrace {old}' is deprecated" in result.stderr and f"'bctrace {new}'" in result.stderr
    assert cli(*new.split(), "--help").exit_code == 0


# -- README examples -------------------------------------------------------------------------

PLACEHOLDERS = {
    # Placeholders the README uses for values a reader copies from earlier output.
    "0x<digest>": '"$(basename "$(ls .bctrace/bundles/*.bctrace.json | head -n 1)" .bctrace.json)"',
    "<run-id>": '"$(ls .bctrace/runs | head -n 1)"',
}


def runnable_blocks() -> dict[str, str]:
    """Fenced bash blocks preceded by ``<!-- runnable: GROUP -->``; a group's blocks run in one
    shell, in order, as a reader would type them."""
    groups: dict[str, str] = {}
    for group, body in re.findall(r"<!-- runnable: ([\w-]+) -->\n\s*```bash\n(.*?)```", README, re.S):
        groups[group] = groups.get(group, "") + body
    return groups


def test_readme_has_runnable_examples():
    assert {"tour", "files", "ml"} <= set(runnable_blocks())


@pytest.mark.parametrize("group", sorted(runnable_blocks()))
def test_readme_example_runs(group, tmp_path):
    script = runnable_blocks()[group]
    for placeholder, value in PLACEHOLDERS.items():
        script = script.replace(placeholder, value)
    work = tmp_path / "work"
    work.mkdir()
    # The files the examples name, as a reader would have them.
    (work / "paper.pdf").write_bytes(b"%PDF-1.4 a paper\n")
    (work / "model.safetensors").write_bytes(os.urandom(300_000))
    (work / "data").mkdir()
    (work / "data" / "train.csv").write_text("x,y\n1,2\n")
    (work / "data" / "test.csv").write_text("x,y\n3,4\n")
    shutil.copytree(REPO / "examples", work / "examples", ignore=shutil.ignore_patterns(".bctrace", "*.bctrace.json", "model.*", "metrics.json"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("BCTRACE_CONFIG", None)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"README block '{group}' failed ({done.returncode}):\n{script}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr
