"""The ``bctrace`` command.

Every failure a user can cause prints one line ``error: ...`` on stderr and exits with the
documented code (0 ok, 1 not verified, 2 usage/config, 3 chain/network/store); no traceback.
Plugins add commands through the ``bctrace_add_commands`` hook.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from .errors import EXIT_CHAIN, EXIT_NOT_VERIFIED, EXIT_USAGE, BctraceError, UsageError
from .hexutil import to_0x

INIT_TEMPLATE = """\
# bctrace configuration. Docs: README.md, section "Configuration".
# Strings may use ${ENV_VAR} or ${ENV_VAR:-default}; keys are referenced as "env:VAR", never pasted.

# Where the outbox (records waiting to be anchored) and the local ledger live.
state_dir = ".bctrace"

# Chains that `bctrace flush` anchors on (default: every chain below).
default_chains = ["local"]

# Write every record's proof bundle into this folder on flush (stamped files always get
# theirs beside the file).
# bundle_dir = "bundles"

# The embedded ledger: an append-only, hash-chained file in the state folder.
[chains.local]
backend = "local"

# An EVM chain (public, L2 or private). `bctrace deploy --chain sepolia` deploys the registry.
# [chains.sepolia]
# backend = "evm"
# preset = "sepolia"
# rpc_url = "${SEPOLIA_RPC_URL}"
# key = "env:BCTRACE_KEY"
# contract = "0x..."

# An IPFS node to store the bytes of stamped files (`bctrace stamp --store ipfs FILE`).
# [stores.ipfs]
# backend = "ipfs"
# api = "http://127.0.0.1:5001"
"""


class BctraceGroup(click.Group):
    """Turns every :class:`BctraceError` raised by any subcommand into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BctraceError as err:
            click.echo(f"error: {' '.join(str(err).split())}", err=True)
            ctx.exit(err.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; records already recorded stay in the outbox", err=True)
            ctx.exit(130)


@click.group(cls=BctraceGroup)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), envvar="BCTRACE_CONFIG",
              help="Config file (default: bctrace.toml or [tool.bctrace] in pyproject.toml, searched upwards).")
@click.version_option(package_name="bctrace")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None) -> None:
    """Tamper-evident, chain-anchored records with portable proof bundles."""
    ctx.obj = {"config_path": config_path}


def open_tracer(ctx: click.Context) -> Any:
    """The Tracer for this invocation (config loaded once, closed when the command ends)."""
    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    if "tracer" not in obj:
        from .tracer import Tracer

        obj["tracer"] = Tracer.from_config(obj.get("config_path"))
        root.call_on_close(obj["tracer"].close)
    return obj["tracer"]


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _table(title: str | None, columns: list[str], rows: Iterable[Iterable[Any]], indent: str = "  ") -> None:
    """Plain aligned columns: readable in a terminal, a log file or a CI transcript alike."""
    cells = [columns] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    if title:
        click.echo(title)
    for r in cells:
        click.echo(indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def _when(ts: int | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


# -- stamp / record / flush ----------------------------------------------------------------


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--kind", help="Record kind (default: file, dataset for folders, text for stdin).")
@click.option("--trace", "trace_id", help="Append to this trace instead of starting a new one.")
@click.option("--store", help="Also upload the bytes to this [stores.NAME] content store (IPFS).")
@click.option("--cid", is_flag=True, help="Also compute the IPFS CID (in the same read).")
@click.option("--blake3", is_flag=True, help="Also compute BLAKE3 (in the same read).")
@click.option("--git", "git_state", is_flag=True, help="PATH is a git repository: record its state (commit, tree, diff).")
@click.option("--sign", is_flag=True, default=None, help="Sign with the [signer] key: proof of authorship (address + anchor time).")
@click.option("--no-flush", is_flag=True, help="Only queue the records; anchor later with `bctrace flush`.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def stamp(ctx: click.Context, paths: tuple[str, ...], kind: str | None, trace_id: str | None, store: str | None,
          cid: bool, blake3: bool, git_state: bool, sign: bool | None, no_flush: bool, as_json: bool) -> None:
    """Hash files, folders or stdin text (`-`) and anchor them; each gets PATH.bctrace.json."""
    tracer = open_tracer(ctx)
    for p in paths:
        if p != "-" and not Path(p).exists():
            raise UsageError(f"path {p} does not exist")
    recorded = []
    for p in paths:
        if git_state:
            from .gitstate import stamp_git

            recorded.append(stamp_git(tracer, Path(p), store=store))
        elif p == "-":
            text = sys.stdin.read()
            recorded.append(tracer.stamp_text(text, kind=kind or "text", trace=trace_id,
                                              bundle_dir=_bundle_dir(tracer), sign=sign))
        else:
            recorded.append(tracer.stamp(p, kind=kind, trace=trace_id, store=store, cid=cid, blake3=blake3,
                                         progress=not as_json and sys.stderr.isatty(), sign=sign))
    result = None if no_flush else tracer.flush()
    rows = [
        {"path": p, "digest": r.digest_hex, "bundle": str(r.bundle_path) if r.bundle_path else None,
         "subject": r.record.subjects[0].sha256 if r.record.subjects else None,
         "signed_by": r.record.author if r.record.signature else None}
        for p, r in zip(paths, recorded)
    ]
    if as_json:
        emit_json({"stamped": rows, "flush": result.batches if result else None})
        return
    for row in rows:
        click.echo(f"{row['path']}: sha256 {row['subject']}  record {row['digest']}"
                   + (f"  signed by {row['signed_by']}" if row["signed_by"] else ""))
        if not no_flush:
            click.echo(f"  bundle {row['bundle']}")
    if result:
        _print_flush(result)
    else:
        click.echo("queued; run `bctrace flush` to anchor")


@main.command()
@click.option("--kind", required=True, help="Record kind: text, donation, supply-step, authorship, ...")
@click.option("--json", "body", default="{}", help="The record body, a JSON object (or @FILE).")
@click.option("--trace", "trace_id", help="Append to this trace (hash-chained to its last step).")
@click.option("--author", help="Who makes this record (an address, a name).")
@click.option("--salt", is_flag=True, help="Add a random salt so a guessable body cannot be confirmed by guessing.")
@click.option("--sign", is_flag=True, default=None, help="Sign with the [signer] key (the author becomes its address).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the bundle (default: bundle_dir of the config, else STATE_DIR/bundles).")
@click.option("--flush", "do_flush", is_flag=True, help="Anchor right away.")
@click.option("--output-json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def record(ctx: click.Context, kind: str, body: str, trace_id: str | None, author: str | None, salt: bool,
           sign: bool | None, out_dir: Path | None, do_flush: bool, as_json: bool) -> None:
    """Record one step (any JSON body); it is anchored by the next flush."""
    tracer = open_tracer(ctx)
    data = _parse_json_body(body)
    rec = tracer.record(kind, data, trace=trace_id, author=author, salt=salt, sign=sign,
                        bundle_dir=out_dir or _bundle_dir(tracer))
    result = tracer.flush() if do_flush else None
    out = {"digest": rec.digest_hex, "trace": rec.record.trace, "seq": rec.record.seq, "bundle": str(rec.bundle_path),
           "anchored": bool(result and result.records)}
    if as_json:
        emit_json(out)
        return
    click.echo(f"recorded {out['digest']} (trace {out['trace']} step {out['seq']})")
    click.echo(f"  bundle {out['bundle']}" + ("" if do_flush else " (written on flush)"))
    if result:
        _print_flush(result)


def _bundle_dir(tracer: Any) -> Path:
    """Where bundles of records that are not files go: ``bundle_dir`` of the config, else
    ``STATE_DIR/bundles``."""
    return tracer.config.bundle_dir or tracer.config.state_dir / "bundles"


def _parse_json_body(body: str) -> dict[str, Any]:
    source = "--json"
    if body.startswith("@"):
        path = Path(body[1:])
        source = str(path)
        try:
            body = path.read_text(encoding="utf-8")
        except OSError as err:
            raise UsageError(f"--json file {path} cannot be read: {err.strerror}") from err
    def no_constant(name: str) -> None:
        raise UsageError(f"{source}: {name} is not valid JSON (JSON has no NaN or Infinity; record it as a string)")

    try:
        data = json.loads(body, parse_constant=no_constant)
    except json.JSONDecodeError as err:
        raise UsageError(f"{source} is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from err
    if not isinstance(data, dict):
        raise UsageError(f"{source} must be a JSON object, got {type(data).__name__}")
    return data


@main.command()
@click.option("--chain", "chains", multiple=True, help="Anchor on these chains only (default: default_chains).")
@click.option("--drop-chain", "drop", multiple=True, help="Stop waiting for this chain in unfinished batches (it is gone for good).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def flush(ctx: click.Context, chains: tuple[str, ...], drop: tuple[str, ...], as_json: bool) -> None:
    """Anchor every pending record: one Merkle root, one anchor per chain."""
    tracer = open_tracer(ctx)
    result = tracer.flush(list(chains) or None, drop_chains=drop)
    if as_json:
        emit_json({"batches": result.batches, "bundles": [str(b) for b in result.bundles]})
    else:
        _print_flush(result)


def _print_flush(result: Any) -> None:
    if not result.batches:
        click.echo("nothing to anchor")
        return
    for batch in result.batches:
        click.echo(f"anchored {batch['records']} record(s), root {batch['root']}")
        for a in batch["anchors"]:
            click.echo(f"  {a['chain']} (chain id {a['chain_id']}): block {a['block']} tx {a.get('url') or a['tx']}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Records waiting to be anchored, and batches waiting for a chain."""
    tracer = open_tracer(ctx)
    pending = tracer.outbox.pending_count()
    open_batches = tracer.outbox.open_batches()
    waiting = [{"batch": b.id, "root": to_0x(b.root), "chains": b.chains,
                "anchored_on": sorted(tracer.outbox.anchors(b.id))} for b in open_batches]
    if as_json:
        emit_json({"config": tracer.config.describe_source(), "pending": pending, "open_batches": waiting})
        return
    click.echo(f"config: {tracer.config.describe_source()}")
    click.echo(f"pending records: {pending}")
    for w in waiting:
        click.echo(f"batch {w['batch']} root {w['root']}: anchored on {', '.join(w['anchored_on']) or 'none'} of {', '.join(w['chains'])}")


# -- verify / show / bundle ------------------------------------------------------------------


@main.command()
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
    from .bundle import ProofBundle
    from .verify import parse_policy, verify_trace

    tracer = open_tracer(ctx)
    pol = parse_policy(policy)
    endpoints = [_parse_rpc(spec) for spec in rpc]
    results: list[dict[str, Any]] = []
    codes: list[int] = []
    bundles: list[ProofBundle] = []
    for target in targets:
        try:
            report = tracer.verify(target, chains=list(chains) or None, policy=pol, raise_on_failure=False, rpc=endpoints,
                                   progress=not as_json and sys.stderr.isatty())
        except BctraceError as err:
            results.append({"target": target, "verified": False, "error": " ".join(str(err).split())})
            codes.append(err.exit_code)
            continue
        entry = {"target": target, **report.to_dict()}
        if not report.ok:
            failure = report.failure()
            entry["error"] = str(failure)
            codes.append(failure.exit_code)
        else:
            codes.append(0)
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
        _table(None, ["chain", "chain id", "status", "block", "time (UTC)", "confirmations", "tx / reason"],
               [[c["chain"], c.get("chain_id"), c["status"], c.get("block"), _when(c.get("timestamp")),
                 c.get("confirmations"), (c.get("url") or c.get("tx")) if c["status"] == "verified" else c.get("reason")]
                for c in chains])
        if not ok:
            click.echo(f"  {entry['error']}")


@main.command()
@click.argument("bundle_path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the bundle as JSON.")
def show(bundle_path: Path, as_json: bool) -> None:
    """Summarise a proof bundle (no chain is contacted)."""
    from .bundle import ProofBundle, bundle_path_for

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
        from .authorship import check_signature

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
        _table("anchors", ["chain", "chain id", "backend", "block", "time (UTC)", "tx"],
               [[a.chain, a.chain_id, a.backend, a.block, _when(a.timestamp), a.tx] for a in bundle.anchors])
    else:
        click.echo("anchors  none")


@main.command("bundle")
@click.argument("digest")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: stdout).")
@click.pass_context
def bundle_cmd(ctx: click.Context, digest: str, out: Path | None) -> None:
    """Export the proof bundle of an anchored record of this project by its digest."""
    from .record import parse_digest

    tracer = open_tracer(ctx)
    try:
        raw = parse_digest(digest)
    except ValueError as err:
        raise UsageError(str(err)) from None
    bundle = tracer.bundle(raw)
    if out:
        click.echo(str(bundle.write(out)))
    else:
        click.echo(bundle.to_json(), nl=False)


# -- chains / init ---------------------------------------------------------------------------


@main.command()
@click.option("--estimate", is_flag=True, help="Also estimate the cost of one anchor on each chain.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def chains(ctx: click.Context, estimate: bool, as_json: bool) -> None:
    """Configured chains: backend, chain id, reachability (and anchor cost with --estimate)."""
    tracer = open_tracer(ctx)
    rows = []
    for name in tracer.config.chains:
        backend = tracer.backend(name)
        row: dict[str, Any] = {**backend.describe(), "default": name in tracer.config.default_chains}
        try:
            row["chain_id"] = backend.chain_id
            row["head"] = backend.head()
            row["reachable"] = True
        except BctraceError as err:
            row["reachable"] = False
            row["reason"] = " ".join(str(err).split())
        if estimate and row["reachable"]:
            try:
                row["estimate"] = backend.estimate_anchor_cost()
            except BctraceError as err:  # reachable, but no estimate (fee above cap, no oracle)
                row["estimate_error"] = " ".join(str(err).split())
        rows.append(row)
    if as_json:
        emit_json({"config": tracer.config.describe_source(), "chains": rows})
        return
    click.echo(f"config: {tracer.config.describe_source()}")
    cols = ["chain", "backend", "chain id", "default", "reachable", "head / reason"]
    if estimate:
        cols.append("anchor cost")
    _table(None, cols, [
        [r["chain"], r["backend"], r.get("chain_id"), "yes" if r["default"] else "", "yes" if r["reachable"] else "NO",
         r.get("head") if r["reachable"] else r.get("reason")]
        + ([_fmt_cost(r)] if estimate else [])
        for r in rows
    ])


def _fmt_cost(row: dict[str, Any]) -> str:
    """The anchor cost column: unknown for a chain that could not be asked, "free" only for a
    chain that said so (or has no fees, like the local ledger)."""
    if not row["reachable"]:
        return "unknown (unreachable)"
    if row.get("estimate_error"):
        return str(row["estimate_error"])
    est = row.get("estimate")
    if not est:
        return "free"
    return ", ".join(f"{k} {v}" for k, v in est.items())


@main.command()
@click.option("--force", is_flag=True, help="Overwrite an existing bctrace.toml.")
def init(force: bool) -> None:
    """Write a commented bctrace.toml in the current folder."""
    target = Path("bctrace.toml")
    if target.exists() and not force:
        raise UsageError(f"{target.resolve()} exists already (use --force to overwrite)")
    target.write_text(INIT_TEMPLATE, encoding="utf-8")
    click.echo(f"wrote {target.resolve()}")


def _add_plugin_commands() -> None:
    from .plugins.manager import get_plugin_manager

    try:
        get_plugin_manager().hook.bctrace_add_commands(cli=main)
    except BctraceError as err:  # a broken plugin must not take the core commands down
        click.echo(f"warning: {err}", err=True)


_add_plugin_commands()
