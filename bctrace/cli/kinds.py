"""``bctrace kinds``: the typed record kinds of bctrace and its plugins."""

from __future__ import annotations

from typing import Any

import click

from .context import emit_json, get_tracer
from .output import table


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def kinds(as_json: bool) -> None:
    """List the typed record kinds (`bctrace record --kind NAME --FIELD VALUE ...`)."""
    registry = get_tracer().kinds
    rows: list[dict[str, Any]] = []
    for name in registry.names():
        info = registry.info[name]
        model = registry.get(name)
        options = [(f.alias or n).replace("_", "-") for n, f in model.model_fields.items()]
        rows.append({"kind": name, "version": info.version, "description": info.description, "fields": options,
                     "private": list(info.private), "plugin": registry.owner(name)})
    if as_json:
        emit_json({"kinds": rows})
        return
    table(None, ["kind", "version", "fields (--NAME VALUE)", "private by default", "description"],
          [[r["kind"], r["version"], " ".join(r["fields"]), " ".join(r["private"]) or "-", r["description"]] for r in rows])
