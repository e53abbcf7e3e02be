"""``bctrace verify | show | bundle``: check proof bundles, read them, export them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import EXIT_CHAIN, EXIT_NOT_VERIFIED, EXIT_USAGE, BctraceError, UsageError
from .context import emit_json, get_tracer
from .output import table, when


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--policy", default="all", show_default=True, help="all, any, or a number k of chains that must confirm.")
@click.option("--chain", "chains", multiple=True, help="Check these configured chains (default: every anchor in the bundle).")
@click.option("--rpc", "rpc", multiple=True, metavar="CHAIN_ID=URL",
              help="Check the anchor on this endpoint, no config needed; repeat to ask several providers.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def verify(ctx: click.Context, targets: tuple[str, ...], policy: str, chains: tuple[str, ...], rpc: tuple[str, ...],
           as_json: bool) -> None:
    """Verify stamped files/folders (their bundle sits beside them) or bundle files.

    Exit 0 verified, 1 not verified, 2 usage/config error, 3 a chain could not be reached.
    """
    from .._internal.bundle import ProofBundle
    from .._internal.verify import parse_policy, verify_trace

    tracer = get_tracer()
    pol = parse_policy(policy)
    endpoints = [_parse_rpc(spec) for spec in rpc]
    results: list[dict[str, Any]] = []
    codes: list[int] = []
    bundles: list[ProofBundle] = []
    for target in targets:
        try:
            report = tracer.verify(target, chains=list(chains) or None, policy=pol, raise_on_failure=False, rpc=endpoints)
        except BctraceError as err:
            results.append({"target": target, "verified": False, "error": err.one_line()})
            codes.append(err.exit_code)
            continue
        entry = {"target": target, **report.to_dict()}
        if not report.ok:
            failure = report.failure()
            entry["error"] = str(failure)
            codes.append(failure.exit_code)
        else:
            codes.append(0)
            assert report.bundle is not None
            bundles.append(report.bundle)
        results.append(entry)
    traces: dict[str, int] = {}
    for b in bundles:
        traces[str(b.record.get("trace"))] = traces.get(str(b.record.get("trace")), 0) + 1
    if any(n > 1 for n in traces.values()):
        try:
            verify_trace([b for b in bundles if traces[str(b.record.get("trace"))] > 1], from_start=False)
        except BctraceError as err:
            results.append({"target": "trace", "verified": False, "error": str(err)})
            codes.append(err.exit_code)
    code = _worst(codes)
    if as_json:
        emit_json({"verified": code == 0, "results": results})
    else:
        for entry in results:
            _print_verification(entry)
    ctx.exit(code)


def _parse_rpc(spec: str) -> tuple[int, str]:
    chain_id, sep, url = spec.partition("=")
    if not sep or not chain_id.strip().isdigit() or "://" not in url:
        raise UsageError(f"--rpc {spec!r} must be CHAIN_ID=URL, e.g. 1=https://rpc.example.org")
    return int(chain_id), url.strip()


def _worst(codes: list[int]) -> int:
    """Usage errors first, then definite verification failures, then unreachable chains."""
    for code in (EXIT_USAGE, EXIT_NOT_VERIFIED, EXIT_CHAIN):
        if code in codes:
            return code
    return 0


def _print_verification(entry: dict[str, Any]) -> None:
    chains = entry.get("chains") or []
    ok = "error" not in entry
    signed = f" (signed by {entry['signed_by']})" if entry.get("signed_by") else ""
    click.echo(f"{'OK ' if ok else 'FAILED '}{entry['target']}{signed}" + (f": {entry['error']}" if not ok and not chains else ""))
    if chains:
        table(None, ["chain", "chain id", "status", "block", "time (UTC)", "confirmations", "tx / reason"],
              [[c["chain"], c.get("chain_id"), c["status"], c.get("block"), when(c.get("timestamp")),
                c.get("confirmations"), (c.get("url") or c.get("tx")) if c["status"] == "verified" else c.get("reason")]
               for c in chains])
        if not ok:
            click.echo(f"  {entry['error']}")


@click.command()
@click.argument("bundle_path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the bundle as JSON.")
def show(bundle_path: Path, as_json: bool) -> None:
    """Summarise a proof bundle (no chain is contacted)."""
    from .._internal.bundle import ProofBundle, bundle_path_for

    if not bundle_path.name.endswith(".bctrace.json") and bundle_path.exists():
        bundle_path = bundle_path_for(bundle_path)
    bundle = ProofBundle.read(bundle_path)
    if as_json:
        emit_json(bundle.model_dump(mode="json", exclude_none=True))
        return
    rec = bundle.record
    click.echo(f"bundle   {bundle_path}")
    click.echo(f"record   kind {rec.get('kind')}, trace {rec.get('trace')} step {rec.get('seq', 0)}, created {rec.get('created')}")
    if rec.get("signature"):
        from .._internal.signatures import check_signature

        try:
            click.echo(f"author   {check_signature(rec, str(bundle_path))} (signature checks)")
        except BctraceError as err:
            click.echo(f"author   {rec.get('author')} (SIGNATURE INVALID: {err})")
    elif rec.get("author"):
        click.echo(f"author   {rec['author']} (unsigned)")
    for s in rec.get("subjects", []):
        size = f", {s['size']} bytes" if s.get("size") is not None else ""
        cid = f", cid {s['cid']}" if s.get("cid") else ""
        click.echo(f"subject  {s.get('name')}: sha256 {s.get('sha256')}{size}{cid}")
    click.echo(f"digest   {bundle.digest}")
    click.echo(f"merkle   root {bundle.merkle.root} ({len(bundle.merkle.proof)} proof steps, {bundle.merkle.format})")
    if bundle.anchors:
        table("anchors", ["chain", "chain id", "backend", "block", "time (UTC)", "tx"],
              [[a.chain, a.chain_id, a.backend, a.block, when(a.timestamp), a.tx] for a in bundle.anchors])
    else:
        click.echo("anchors  none")


@click.command("bundle")
@click.argument("digest")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: stdout).")
@click.option("--json", "as_json", is_flag=True, help="With -o: print {\"bundle\": PATH} (the bundle itself is always JSON).")
def bundle_cmd(digest: str, out: Path | None, as_json: bool) -> None:
    """Export the proof bundle of an anchored record of this project by its digest."""
    from .._internal.record import parse_digest

    tracer = get_tracer()
    try:
        raw = parse_digest(digest)
    except ValueError as err:
        raise UsageError(str(err)) from None
    bundle = tracer.bundle(raw)
    if out:
        written = bundle.write(out)
        if as_json:
            emit_json({"bundle": str(written)})
        else:
            click.echo(str(written))
    else:
        click.echo(bundle.to_json(), nl=False)
