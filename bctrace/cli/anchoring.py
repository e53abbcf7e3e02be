"""``bctrace stamp | record | flush | upgrade | status``: make records and anchor them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import UsageError
from .context import deprecated, emit_json, get_tracer

JSON_OUTPUT = "Machine-readable output."


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--kind", help="Record kind (default: file, dataset for folders, text for stdin).")
@click.option("--trace", "trace_id", help="Append to this trace instead of starting a new one.")
@click.option("--store", help="Also upload the bytes to this [stores.NAME] content store (IPFS).")
@click.option("--cid", is_flag=True, help="Also compute the IPFS CID (in the same read).")
@click.option("--blake3", is_flag=True, help="Also compute BLAKE3 (in the same read).")
@click.option("--git", "git_state", is_flag=True, help="PATH is a git repository: record its state (commit, tree, diff).")
@click.option("--sign", is_flag=True, default=None, help="Sign with the [signer] key: proof of authorship (address + anchor time).")
@click.option("--no-flush", is_flag=True, help="Only queue the records; anchor later with `bctrace flush`.")
@click.option("--json", "as_json", is_flag=True, help=JSON_OUTPUT)
def stamp(paths: tuple[str, ...], kind: str | None, trace_id: str | None, store: str | None,
          cid: bool, blake3: bool, git_state: bool, sign: bool | None, no_flush: bool, as_json: bool) -> None:
    """Hash files, folders or stdin text (`-`) and anchor them; each gets PATH.bctrace.json."""
    tracer = get_tracer()
    for p in paths:
        if p != "-" and not Path(p).exists():
            raise UsageError(f"path {p} does not exist")
    recorded = []
    for p in paths:
        if git_state:
            recorded.append(tracer.stamp_git(p, store=store))
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
         "hash_scheme": r.record.subjects[0].hash_scheme if r.record.subjects else None,
         "salt_file": str(r.salt_file) if r.salt_file else None,
         "signed_by": r.record.author if r.record.signature else None}
        for p, r in zip(paths, recorded, strict=False)
    ]
    if as_json:
        emit_json({"stamped": rows, "flush": result.batches if result else None})
        return
    for row in rows:
        hashed = f"salted sha256 {row['subject']}" if row["salt_file"] else f"sha256 {row['subject']}"
        click.echo(f"{row['path']}: {hashed}  record {row['digest']}"
                   + (f"  signed by {row['signed_by']}" if row["signed_by"] else ""))
        if row["salt_file"]:
            click.echo(f"  salt kept in {row['salt_file']} (give it with --salt to whoever should check the text)")
        if not no_flush:
            click.echo(f"  bundle {row['bundle']}")
    if result:
        print_flush(result)
    else:
        click.echo("queued; run `bctrace flush` to anchor")


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--kind", required=True, help="Record kind: donation, supply-step, authorship, ... (`bctrace kinds` lists the typed ones).")
@click.option("--body", help="The record body, a JSON object (default: {}).")
@click.option("--body-file", type=click.Path(dir_okay=False, path_type=Path), help="Read the body (a JSON object) from this file.")
@click.option("--json", "json_opt", is_flag=False, flag_value="", default=None, metavar="",
              help="Machine-readable output. (Deprecated: `--json BODY` still means --body BODY for one release.)")
@click.option("--output-json", "output_json", is_flag=True, hidden=True)
@click.option("--trace", "trace_id", help="Append to this trace (hash-chained to its last step).")
@click.option("--author", help="Who makes this record (an address, a name).")
@click.option("--salt", is_flag=True, help="Add a random salt so a guessable body cannot be confirmed by guessing.")
@click.option("--sign", is_flag=True, default=None, help="Sign with the [signer] key (the author becomes its address).")
@click.option("--private", "private", multiple=True, metavar="FIELD",
              help="Record this body field (a, a.b, items[2]) as a digest only; reveal it later with `bctrace disclose`.")
@click.option("--public", "public", multiple=True, metavar="FIELD", help="Record a field the kind keeps private by default in clear.")
@click.option("--decoys", type=click.IntRange(min=0), default=0, help="Random digests added to each list of hidden fields.")
@click.option("--subject", "subjects", multiple=True, type=click.Path(path_type=Path),
              help="A file or folder the step speaks about (a delivery note, an invoice): hashed into the record.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the bundle (default: bundle_dir of the config, else STATE_DIR/bundles).")
@click.option("--flush", "do_flush", is_flag=True, help="Anchor right away.")
@click.pass_context
def record(ctx: click.Context, kind: str, body: str | None, body_file: Path | None, json_opt: str | None, output_json: bool,
           trace_id: str | None, author: str | None, salt: bool, sign: bool | None, private: tuple[str, ...], public: tuple[str, ...],
           decoys: int, subjects: tuple[Path, ...], out_dir: Path | None, do_flush: bool) -> None:
    """Record one step; it is anchored by the next flush.

    The body is a JSON object (--body), or for a typed kind its fields as options
    (`--kind donation --donor NAME --recipient ORG --amount 25 --currency EUR`), checked
    against the kind's model; private fields are recorded as digests only.
    """
    from .._internal.hashing import subject_for_path
    from .._internal.kinds import options_to_body

    as_json = output_json or json_opt == ""
    if output_json:
        deprecated("record --output-json", "record --json")
    source = "--body"
    if json_opt:  # the 0.1 spelling of the body: keeps its meaning, never read as the output flag
        deprecated("record --json BODY", "record --body BODY (or --body-file FILE)")
        if body is not None or body_file is not None:
            raise UsageError("give the body once: --body, --body-file or (deprecated) --json BODY")
        body, source = json_opt, "--json"
    if body is not None and body_file is not None:
        raise UsageError("give --body or --body-file, not both")
    data = _parse_body(body, body_file, source)
    tracer = get_tracer()
    for name, value in options_to_body(tracer.kinds, kind, list(ctx.args)).items():
        if name in data:
            raise UsageError(f"field {name!r} is given twice (in the body and as --{name.replace('_', '-')})")
        data[name] = value
    for p in subjects:
        if not p.exists():
            raise UsageError(f"subject {p} does not exist")
    hashed = [subject_for_path(p)[0] for p in subjects]
    rec = tracer.record(kind, data, subjects=hashed, trace=trace_id, author=author, salt=salt, sign=sign,
                        private=private, public=public, decoys=decoys, bundle_dir=out_dir or _bundle_dir(tracer))
    result = tracer.flush() if do_flush else None
    out = {"digest": rec.digest_hex, "trace": rec.record.trace, "seq": rec.record.seq, "bundle": str(rec.bundle_path),
           "anchored": bool(result and result.records),
           "disclosures": str(rec.disclosure_file) if rec.disclosure_file else None}
    if as_json:
        emit_json(out)
        return
    click.echo(f"recorded {out['digest']} (trace {out['trace']} step {out['seq']})")
    click.echo(f"  bundle {out['bundle']}" + ("" if do_flush else " (written on flush)"))
    if rec.disclosure_file:
        click.echo(f"  private fields kept in {rec.disclosure_file} (reveal some with `bctrace disclose BUNDLE --field NAME`)")
    if result:
        print_flush(result)


def _bundle_dir(tracer: Any) -> Path:
    """Where bundles of records that are not files go: ``bundle_dir`` of the config, else
    ``STATE_DIR/bundles``."""
    return tracer.config.bundle_dir or tracer.config.state_dir / "bundles"


def _parse_body(body: str | None, body_file: Path | None, source: str) -> dict[str, Any]:
    text = body if body is not None else "{}"
    if body is not None and body.startswith("@"):  # 0.1's `--json @FILE`
        body_file = Path(body[1:])
    if body_file is not None:
        source = str(body_file)
        try:
            text = body_file.read_text(encoding="utf-8")
        except OSError as err:
            raise UsageError(f"body file {body_file} cannot be read: {err.strerror}") from err
    from .._internal.strictjson import JsonProblem, loads

    try:
        data = loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(f"{source} is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from err
    except JsonProblem as err:
        raise UsageError(f"{source}: " + (f"body.{err}" if err.where else str(err))) from None
    if not isinstance(data, dict):
        raise UsageError(f"{source} must be a JSON object, got {type(data).__name__}")
    return data


@click.command()
@click.option("--chain", "chains", multiple=True, help="Anchor on these chains only (default: default_chains).")
@click.option("--drop-chain", "drop", multiple=True, help="Stop waiting for this chain in unfinished batches (it is gone for good).")
@click.option("--json", "as_json", is_flag=True, help=JSON_OUTPUT)
def flush(chains: tuple[str, ...], drop: tuple[str, ...], as_json: bool) -> None:
    """Anchor every pending record: one Merkle root, one anchor per chain."""
    result = get_tracer().flush(list(chains) or None, drop_chains=drop)
    if as_json:
        out: dict[str, Any] = {"batches": result.batches, "bundles": [str(b) for b in result.bundles], "notes": result.notes}
        if result.upgrade is not None:
            out["upgraded"], out["still_pending"] = result.upgrade.upgraded, result.upgrade.pending
        emit_json(out)
    else:
        print_flush(result)


@click.command()
@click.argument("bundles", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help=JSON_OUTPUT)
def upgrade(bundles: tuple[str, ...], as_json: bool) -> None:
    """Upgrade pending anchors (OpenTimestamps: ask the calendars for their Bitcoin attestation,
    like `ots upgrade`) and rewrite the bundles of the anchors that are now confirmed: those of
    this project's outbox, or the bundle files (or stamped paths) given."""
    if bundles:
        _upgrade_files(bundles, as_json)
        return
    result = get_tracer().upgrade()
    if as_json:
        emit_json({"upgraded": result.upgraded, "still_pending": result.pending,
                   "bundles": [str(b) for b in result.bundles], "notes": result.notes})
        return
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    print_upgrades(result)
    if not result.upgraded and not result.pending:
        click.echo("no pending anchors")


def _upgrade_files(targets: tuple[str, ...], as_json: bool) -> None:
    tracer = get_tracer()
    out = []
    for target in targets:
        path, pending = tracer.upgrade_bundle(target)
        out.append({"bundle": str(path), "still_pending": [a.chain for a in pending]})
        if not as_json:
            click.echo(f"{path}: " + (f"still pending on {', '.join(a.chain for a in pending)}" if pending else "no pending anchors"))
    if as_json:
        emit_json({"bundles": out})


def print_upgrades(result: Any) -> None:
    for a in result.upgraded:
        click.echo(f"upgraded batch {a['batch']} on {a['chain']}: block {a['block']} tx {a['tx']}")
    if result.pending:
        click.echo(f"still pending: {len(result.pending)} anchor(s) ({', '.join(sorted({a['chain'] for a in result.pending}))})")
    if result.bundles:
        click.echo(f"rewrote {len(result.bundles)} bundle(s)")


def print_flush(result: Any) -> None:
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if result.upgrade is not None:
        print_upgrades(result.upgrade)
    if not result.batches:
        click.echo("nothing to anchor")
        return
    for batch in result.batches:
        if batch.get("service"):
            click.echo(f"{batch['records']} bundle(s) written from the service {batch['service']}")
            continue
        click.echo(f"anchored {batch['records']} record(s), root {batch['root']}")
        for a in batch["anchors"]:
            where = "pending (run `bctrace upgrade` later)" if a.get("status") == "pending" else f"block {a['block']} tx {a.get('url') or a['tx']}"
            click.echo(f"  {a['chain']} (chain id {a['chain_id']}): {where}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help=JSON_OUTPUT)
def status(as_json: bool) -> None:
    """Records waiting to be anchored, batches waiting for a chain, and anchors waiting for
    their chain's confirmation."""
    tracer = get_tracer()
    pending = tracer.outbox.pending_count()
    open_batches = tracer.outbox.open_batches()
    from .._internal.hexutil import to_0x  # here: pydantic stays unimported for `bctrace --help`

    waiting: list[dict[str, Any]] = [{"batch": b.id, "root": to_0x(b.root), "chains": b.chains,
                "anchored_on": sorted(tracer.outbox.anchors(b.id))} for b in open_batches]
    unconfirmed = [{"batch": a.batch.id, "root": to_0x(a.batch.root), "chain": a.chain} for a in tracer.pending_anchors()]
    if as_json:
        emit_json({"config": tracer.config.describe_source(), "pending": pending, "open_batches": waiting, "pending_anchors": unconfirmed})
        return
    click.echo(f"config: {tracer.config.describe_source()}")
    click.echo(f"pending records: {pending}")
    if unconfirmed:
        click.echo(f"pending anchors: {len(unconfirmed)} on {', '.join(sorted({str(a['chain']) for a in unconfirmed}))} (bctrace upgrade)")
    for w in waiting:
        click.echo(f"batch {w['batch']} root {w['root']}: anchored on {', '.join(w['anchored_on']) or 'none'} of {', '.join(w['chains'])}")


@click.command("fetch-proofs")
@click.option("--json", "as_json", is_flag=True, help=JSON_OUTPUT)
def fetch_proofs(as_json: bool) -> None:
    """Client mode: send pending records to the service and write the bundles it has anchored."""
    result = get_tracer().fetch_proofs()
    if as_json:
        emit_json({"bundles": [str(p) for p in result.bundles], "notes": result.notes})
        return
    print_flush(result)

