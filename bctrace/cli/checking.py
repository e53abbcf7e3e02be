"""``bctrace verify | show | bundle``: check proof bundles, read them, export them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..errors import EXIT_CHAIN, EXIT_NOT_VERIFIED, EXIT_USAGE, BctraceError, UsageError, VerificationError
from .context import emit_json, get_tracer
from .output import safe, table_lines, when


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--policy", default="all", show_default=True, help="all, any, or a number k of chains that must confirm.")
@click.option("--chain", "chains", multiple=True, help="Check these configured chains (default: every anchor in the bundle).")
@click.option("--rpc", "rpc", multiple=True, metavar="CHAIN_ID=URL",
              help="Check the anchor on this endpoint, no config needed; repeat to ask several providers.")
@click.option("--trust-block", "trust", multiple=True, metavar="CHAIN_ID=0xHASH",
              help="Check the anchor on this chain from its chain proof and this trusted block hash (or local "
                   "ledger head hash) alone, with no network; repeatable. Bitcoin (OpenTimestamps): "
                   "CHAIN=HEIGHT:0xMERKLEROOT.")
@click.option("--ledger", "ledgers", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Check local-ledger anchors against this copy of a ledger (ledger.jsonl or its folder).")
@click.option("--text", help="Check that this text (`-`: read it from stdin) is the text the bundles record.")
@click.option("--salt", metavar="0xHEX", help="The salt of a salted text (default: the producer's STATE_DIR/salts/).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def verify(ctx: click.Context, targets: tuple[str, ...], policy: str, chains: tuple[str, ...], rpc: tuple[str, ...],
           trust: tuple[str, ...], ledgers: tuple[Path, ...], text: str | None, salt: str | None, as_json: bool) -> None:
    """Verify stamped files/folders (their bundle sits beside them) or bundle files; with
    --text, also that a text is the one a bundle records.

    Exit 0 verified, 1 not verified, 2 usage/config error, 3 a chain could not be reached.
    """
    from .._internal.bundle import ProofBundle
    from .._internal.verify import parse_policy, parse_trusted_block, verify_trace

    if salt is not None and text is None:
        raise UsageError("--salt is only for --text")
    if text == "-":
        text = sys.stdin.read()
    tracer = get_tracer()
    pol = parse_policy(policy)
    endpoints = [_parse_rpc(spec) for spec in rpc]
    trusted: dict[int, set[bytes]] = {}
    for spec in trust:
        chain_id, block_hash = parse_trusted_block(spec, tracer.backend_class)
        trusted.setdefault(chain_id, set()).add(block_hash)
    results: list[dict[str, Any]] = []
    codes: list[int] = []
    bundles: list[ProofBundle] = []
    for target in targets:
        try:
            options: dict[str, Any] = dict(chains=list(chains) or None, policy=pol, raise_on_failure=False, rpc=endpoints,
                                           trusted=trusted, ledgers=ledgers, progress=not as_json and sys.stderr.isatty())
            report = (tracer.verify(target, **options) if text is None
                      else tracer.verify_text(text, target, salt=salt, **options))
        except BctraceError as err:
            results.append({"target": target, "verified": False, "error": err.one_line()})
            codes.append(err.exit_code)
            continue
        entry = {"target": target, **report.to_dict(), **({"text_matches": True} if text is not None else {})}
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
        traces[b.record["trace"]] = traces.get(b.record["trace"], 0) + 1
    if any(n > 1 for n in traces.values()):
        try:
            verify_trace([b for b in bundles if traces[b.record["trace"]] > 1], from_start=False)
        except BctraceError as err:
            results.append({"target": "trace", "verified": False, "error": str(err)})
            codes.append(err.exit_code)
    code = _worst(codes)
    if as_json:
        emit_json({"verified": code == 0, "results": results})
    else:
        for entry in results:
            for line in verification_lines(entry):
                click.echo(line)
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


def verification_lines(entry: dict[str, Any]) -> list[str]:
    """One bundle's result as ``bctrace verify`` prints it: checked facts per chain, or why not."""
    chains = entry.get("chains") or []
    ok = "error" not in entry
    signed = f" (signed by {entry['signed_by']})" if entry.get("signed_by") else ""
    text = " (the text matches)" if entry.get("text_matches") else ""
    lines = [f"{'OK ' if ok else 'FAILED '}{safe(entry['target'])}{text}{signed}" + (f": {safe(entry['error'])}" if not ok and not chains else "")]
    if entry.get("fields"):
        from .disclosing import field_lines

        lines += field_lines(entry["fields"])
    if chains:
        lines += table_lines(
            ["chain", "chain id", "status", "block", "time (UTC)", "confirmations", "checked by", "tx / reason"],
            [[c["chain"], c.get("chain_id"), c["status"], c.get("block"), when(c.get("timestamp")), c.get("confirmations"),
              ", ".join(w["source"] for w in c.get("witnesses", [])),
              (c.get("url") or c.get("tx")) if c["status"] == "verified" else c.get("reason")]
             for c in chains])
        if not ok:
            lines.append(f"  {safe(entry['error'])}")
    return lines


@click.command()
@click.argument("bundle_path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the bundle as JSON.")
@click.pass_context
def show(ctx: click.Context, bundle_path: Path, as_json: bool) -> None:
    """Summarise a proof bundle: checks the record and Merkle proof, shows anchors as claims
    (no chain is contacted). Exit 0, or 1 when the record or proof was changed."""
    from .._internal.bundle import ProofBundle, bundle_path_for

    if as_json:
        if not bundle_path.name.endswith(".bctrace.json") and bundle_path.exists():
            bundle_path = bundle_path_for(bundle_path)
        emit_json(ProofBundle.read(bundle_path).model_dump(mode="json", exclude_none=True))
        return
    lines, code = show_bundle(bundle_path)
    for line in lines:
        click.echo(line)
    ctx.exit(code)


def show_bundle(path: Path) -> tuple[list[str], int]:
    """The summary of a bundle and the exit code: 0 when the offline checks pass, 1 when the
    record or proof was changed (raises :class:`~bctrace.errors.BundleError` for a file that is
    not a bundle)."""
    from .._internal.bundle import ProofBundle, bundle_path_for
    from .._internal.signatures import check_signature
    from .._internal.verify import check_offline, record_view

    if not path.name.endswith(".bctrace.json") and path.exists():
        path = bundle_path_for(path)
    bundle = ProofBundle.read(path)
    lines = [f"bundle   {safe(path)}"]
    try:
        root = check_offline(bundle, str(path))
    except VerificationError as err:
        lines.append(f"checked  FAILED: {safe(err)}")
        lines.append("         everything below is what the bundle claims, and it does not hold together")
        root, code = None, 1
    else:
        lines.append("checked  the record hashes to the digest, and the Merkle proof leads from it to the root")
        code = 0
    try:
        view = record_view(bundle, str(path))
    except BctraceError as err:
        if code == 0:
            raise
        lines.append(f"record   {safe(err)}")
        return lines, code
    lines.append(f"record   kind {safe(view.kind)}, trace {safe(view.trace)} step {view.seq}")
    lines.append(f"created  {safe(view.created)} (as the recorder wrote it; an anchor's block time bounds it)")
    if view.signature:
        try:
            lines.append(f"author   {safe(check_signature(bundle.record, str(path)))} (signature checks)")
        except BctraceError as err:
            lines.append(f"author   {safe(view.author)} (SIGNATURE INVALID: {safe(err)})")
            code = code or err.exit_code
    elif view.author:
        lines.append(f"author   {safe(view.author)} (unsigned: a claim)")
    for s in view.subjects:
        size = f", {s.size} bytes" if s.size is not None else ""
        cid = f", cid {safe(s.cid)}" if s.cid else ""
        lines.append(f"subject  {safe(s.name)}: sha256 {s.sha256}{size}{cid}")
    code = _show_fields(bundle, view, str(path), lines, code)
    lines.append(f"digest   {bundle.digest}")
    lines.append(f"merkle   root {bundle.merkle.root} ({len(bundle.merkle.proof)} proof steps, {bundle.merkle.format})")
    if not bundle.anchors:
        lines.append("anchors  none")
        return lines, code
    lines.append("anchors  CLAIMS, not checked here: `bctrace verify` checks each on its chain "
                 "(or with no network: --trust-block CHAIN_ID=0xBLOCKHASH)")
    lines += table_lines(["chain", "chain id", "backend", "block", "time (UTC)", "tx", "chain proof"],
                         [[a.chain, a.chain_id, a.backend, "pending" if a.status == "pending" else a.block, when(a.timestamp), a.tx,
                           "the proof so far (pending)" if a.status == "pending" else _proof_state(a, root)]
                          for a in bundle.anchors])
    return lines, code


def _show_fields(bundle: Any, view: Any, source: str, lines: list[str], code: int) -> int:
    """The revealed and hidden body fields of a record with private fields."""
    from .._internal.verify import check_disclosures
    from .disclosing import field_lines

    try:
        fields = check_disclosures(bundle, view, source)
    except VerificationError as err:
        lines.append(f"fields   FAILED: {safe(err)}")
        return code or err.exit_code
    if fields is not None:
        lines.append("fields   private fields: each revealed value matches its digest in the record")
        lines += [line.replace("  ", "         ", 1) for line in field_lines(fields.to_dict())]
    return code


def _proof_state(anchor: Any, root: bytes | None) -> str:
    """Whether the anchor's chain proof holds together (it still needs a trusted block hash)."""
    if anchor.chain_proof is None:
        return "none"
    if root is None or anchor.block_hash is None:
        return "present"
    from .._internal.hexutil import from_0x
    from .._internal.plugin_manager import backend_registry

    try:
        cls = backend_registry().get(anchor.backend)
        cls.check_chain_proof(anchor, root, [from_0x(anchor.block_hash)])
    except VerificationError as err:
        return f"INCONSISTENT ({err})"
    except BctraceError:
        return "present (cannot be checked here)"
    return "consistent with block_hash (trust that hash to make it a fact)"


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
