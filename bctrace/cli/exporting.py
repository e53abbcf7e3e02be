"""``bctrace export``: proof bundles in formats other tools read (the formats come from the
``bctrace_register_exporters`` hook; the logic is in :mod:`bctrace._internal.exporters`)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..errors import UsageError
from .context import emit_json, get_tracer


class _FormatHelp(click.Command):
    """``--help`` lists every registered format with its one-line description."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from .._internal.exporters import exporter_registry

        with formatter.section("Formats"):
            formatter.write_dl(exporter_registry().describe())


@click.command(cls=_FormatHelp)
@click.argument("targets", nargs=-1, required=True)
@click.option("--format", "fmt", required=True, help="The export format (listed below).")
@click.option("-o", "--out", type=click.Path(),
              help="Write to this file, or into this folder (several files, an existing folder, or a trailing /). "
                   "Default: a single text file on stdout, anything else into the current folder.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="A format's own option; repeatable.")
@click.option("--sign", is_flag=True, help="Sign the export with the [signer] key, where the format can (in-toto: a DSSE envelope).")
@click.option("--json", "as_json", is_flag=True, help="Print {\"files\": [PATH, ...]} (needs files, not stdout).")
def export(targets: tuple[str, ...], fmt: str, out: str | None, options: tuple[str, ...], sign: bool, as_json: bool) -> None:
    """Export proof bundles (bundle files, stamped files, or folders of bundles) to another
    format. Each bundle's record and Merkle proof are checked first (exit 1 when edited);
    anchors are exported as the claims they are until `bctrace verify` checks them."""
    from .._internal.exporters import export_bundles, exporter_registry, write_exports

    registry = exporter_registry()
    for problem in registry.problems:
        click.echo(f"warning: {problem}", err=True)
    files = export_bundles(targets, fmt, options=_pairs(options), sign=sign, open_tracer=get_tracer, registry=registry)
    if out is None and len(files) == 1 and not files[0].binary and not as_json:
        click.echo(files[0].data.decode("utf-8"), nl=False)
        return
    folder = out is None or out.endswith(("/", os.sep))
    written = write_exports(files, Path(out) if out is not None else Path.cwd(), fmt=fmt, folder=folder)
    if as_json:
        emit_json({"files": [str(p) for p in written]})
    else:
        for p in written:
            click.echo(str(p))


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    pairs = {}
    for v in values:
        key, sep, value = v.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--option {v!r} must be KEY=VALUE")
        pairs[key.strip()] = value
    return pairs
