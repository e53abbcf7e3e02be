"""How every command gets its config and tracer: from the global ``bctrace --config FILE`` (or
``$BCTRACE_CONFIG``, or the search upwards), loaded once per invocation and closed at its end.
Plugin commands use the same helpers, through :mod:`bctrace.api`."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

if TYPE_CHECKING:
    from .._internal.config import Config
    from .._internal.tracer import Tracer

F = TypeVar("F", bound=Callable[..., Any])


def _state(ctx: click.Context | None) -> dict[str, Any]:
    root = (ctx or click.get_current_context()).find_root()
    if not isinstance(root.obj, dict):
        root.obj = {}
    return cast("dict[str, Any]", root.obj)


def config_path(ctx: click.Context | None = None) -> Path | None:
    """The config file named by ``bctrace --config`` (or ``$BCTRACE_CONFIG``), if any."""
    path = _state(ctx).get("config_path")
    return Path(path) if path else None


def get_tracer(ctx: click.Context | None = None) -> Tracer:
    """The Tracer of this invocation (config loaded once, closed when the command ends)."""
    state = _state(ctx)
    if "tracer" not in state:
        from .._internal.tracer import Tracer

        state["tracer"] = Tracer.from_config(state.get("config_path"))
        (ctx or click.get_current_context()).find_root().call_on_close(state["tracer"].close)
    return cast("Tracer", state["tracer"])


def get_config(ctx: click.Context | None = None) -> Config:
    """The loaded configuration of this invocation (the tracer's, without opening the outbox)."""
    return get_tracer(ctx).config


def pass_tracer(f: F) -> F:
    """Decorator: call the command with the invocation's tracer as its first argument."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return f(get_tracer(), *args, **kwargs)

    return cast(F, wrapper)


def emit_json(data: Any) -> None:
    """Machine output (``--json``): indented, UTF-8, on stdout."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def deprecated(old: str, new: str) -> None:
    """One line on stderr for an old spelling that still works (listed in CHANGELOG.md)."""
    click.echo(f"warning: {old} is deprecated and will be removed in the next release: use {new} (see CHANGELOG.md)", err=True)
