"""``bctrace disclose``: a copy of a bundle that reveals chosen private fields, and the lines
``verify`` and ``show`` print about revealed and hidden fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .context import emit_json, get_tracer
from .output import safe


@click.command()
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--field", "fields", multiple=True, metavar="FIELD",
              help="A private body field to reveal: amount, donor.name, items[2] (repeat for more).")
@click.option("--all", "everything", is_flag=True, help="Reveal every private field whose disclosure is at hand.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the bundle that reveals them (NAME.bctrace.json).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def disclose(bundle: Path, fields: tuple[str, ...], everything: bool, out: Path, as_json: bool) -> None:
    """Write a copy of BUNDLE that reveals only the named private fields.

    The disclosures come from BUNDLE itself and from the producer's STATE_DIR/disclosures/;
    the record, digest, proof and anchors are unchanged, and `bctrace verify` checks every
    revealed value against its digest.
    """
    tracer = get_tracer()
    shared = tracer.disclose(bundle, fields, everything=everything)
    written = shared.write(out)
    from .._internal.disclosure import resolve

    revealed = resolve(shared.record["body"], shared.disclosures or [], str(written))
    if as_json:
        emit_json({"bundle": str(written), **revealed.to_dict()})
        return
    click.echo(f"wrote {safe(written)}")
    for line in field_lines(revealed.to_dict()):
        click.echo(line)


def field_lines(fields: dict[str, Any]) -> list[str]:
    """``revealed`` and ``hidden`` lines of a record with private fields."""
    lines = [f"  revealed {safe(path)} = {safe(json.dumps(value, ensure_ascii=False))} (checked against its digest)"
             for path, value in fields.get("revealed", {}).items()]
    for hidden in fields.get("hidden", []):
        path = hidden["path"]
        if "[" in path and path.endswith("]"):
            lines.append(f"  hidden   {safe(path)} (an array item, not disclosed)")
        else:
            count = hidden["count"]
            lines.append(f"  hidden   {count} value{'s' if count != 1 else ''} in {safe(path)} "
                         "(private fields not disclosed, or decoys)")
    return lines
