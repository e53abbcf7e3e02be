"""Turn a recorded environment back into an installable one, and say how the installed one differs.

``requirements_text`` writes a pip requirements file pinning every recorded distribution to its
exact version (local version labels included, so ``torch==2.13.0+cpu`` can only resolve to the CPU
build), with the Python version and platform as comments. Distributions installed from a folder
or URL rather than an index (editable installs, local wheels) are written as comments: pip could
not find them by name. ``version_changes`` compares the recorded versions with those installed now
and classifies each change as major, minor or patch (by the PEP 440 release numbers).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["requirements_text", "version_changes"]

_SKIP = frozenset({"pip", "setuptools", "wheel", "distribute"})
"""Installer tooling: pinning it in a requirements file fights the installer running it."""


def requirements_text(view: dict[str, Any], run_id: str) -> str:
    """The requirements file for a run (``view`` from :func:`bctrace.ml.compare.run_view`)."""
    env = view.get("environment") or {}
    python = env.get("python") or {}
    system = env.get("os") or {}
    libc = env.get("libc") or {}
    packages: dict[str, str] = env.get("packages") or {}
    direct: dict[str, str] = env.get("packages_direct") or {}
    lines = [
        f"# Environment of bctrace ML run {run_id} ({view.get('name')}), ended {view.get('ended')}",
        f"# Python {python.get('version')} ({python.get('implementation')}) on {system.get('system')} {system.get('release')} {system.get('machine')}, "
        f"{libc.get('name')} {libc.get('version')}",
        f"# Install into a fresh environment of that Python:  python{'.'.join(str(python.get('version', '3')).split('.')[:2])} -m venv .venv && "
        ".venv/bin/pip install -r THIS_FILE",
        "# Every version is exact; local labels (+cpu) keep the same build (torch: the CPU wheel).",
        f'# python_version == "{".".join(str(python.get("version", "")).split(".")[:2])}" and platform_machine == "{system.get("machine")}"',
    ]
    for name in sorted(packages):
        if name in _SKIP:
            continue
        if name in direct:
            lines.append(f"# {name}=={packages[name]} was installed from {direct[name]}, not from an index: install it from there")
        else:
            lines.append(f"{name}=={packages[name]}")
    return "\n".join(lines) + "\n"


def version_changes(recorded: dict[str, str], installed: dict[str, str]) -> list[dict[str, str]]:
    """Packages whose installed version differs from the recorded one: ``{"name", "recorded",
    "installed", "change"}``, change one of major, minor, patch, build (same release, other
    pre/post/local part), added, removed."""
    out = []
    for name in sorted(set(recorded) | set(installed)):
        old, new = recorded.get(name), installed.get(name)
        if old == new:
            continue
        if old is None or new is None:
            change = "added" if old is None else "removed"
        else:
            change = _level(old, new)
        out.append({"name": name, "recorded": old or "-", "installed": new or "-", "change": change})
    return out


def _level(old: str, new: str) -> str:
    a, b = _release(old), _release(new)
    for i, level in enumerate(("major", "minor", "patch")):
        if (a[i] if i < len(a) else 0) != (b[i] if i < len(b) else 0):
            return level
    return "patch" if a != b else "build"


def _release(version: str) -> list[int]:
    m = re.match(r"(?:\d+!)?(\d+(?:\.\d+)*)", version.strip())
    return [int(p) for p in m.group(1).split(".")] if m else []
