"""Secrets in a config table are references (``"env:VAR"``), never values; URLs are shown
redacted. Shared by every backend that signs or talks to a provider, so that each refuses a
pasted key, and hides it from validation errors, the same way."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

ENV_REFERENCE = re.compile(r"^env:[A-Za-z_][A-Za-z0-9_]*$")
PASTED = "<hidden: a secret value written into the config>"


def hide_pasted_secrets(data: Any, fields: Iterable[str]) -> Any:
    """Body of a ``mode="before"`` model validator: swap a pasted secret for a placeholder before
    validation, so that no error object (``str``, ``errors()``, a chained traceback) ever holds
    it; :func:`check_env_reference` then refuses the placeholder."""
    if isinstance(data, dict):
        pasted = [f for f in fields if isinstance(data.get(f), str) and not ENV_REFERENCE.match(data[f])]
        if pasted:
            data = {**data, **dict.fromkeys(pasted, PASTED)}
    return data


def check_env_reference(value: str | None, field: str | None) -> str | None:
    """Body of a field validator: ``value`` must be ``"env:VAR"`` (or unset)."""
    if value is not None and not ENV_REFERENCE.match(value):
        raise ValueError(f"must be a reference like \"env:MY_{(field or 'secret').upper()}\" (secrets are never written in the config file)")
    return value


def redact_url(url: str) -> str:
    """``scheme://host[:port]`` only: paths, queries and userinfo often carry API keys."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "<rpc url>"
    if not parts.scheme or not parts.hostname:
        return "<rpc url>"
    host = parts.hostname + (f":{port}" if port else "")
    hidden = "/…" if (parts.path.strip("/") or parts.query or parts.username) else ""
    return f"{parts.scheme}://{host}{hidden}"
