"""Built-in plugin: the ``bctrace ml run | reproduce | report`` commands, and the run API behind
``Tracer.run`` (through the ``bctrace_run_factory`` hook)."""

from __future__ import annotations

import json
from typing import Any

import click

from .._internal.hookspecs import hookimpl
from .._internal.registry import CommandRegistry
from ..errors import UsageError


@hookimpl
def bctrace_register_commands(registry: CommandRegistry) -> None:
    registry.add(ml)


@hookimpl
def bctrace_run_factory() -> Any:
    from .run import start_run

    return start_run


@click.group()
def ml() -> None:
    """Record ML training runs, re-run them to check reproducibility, report their checklist."""


_WRAP = {"ignore_unknown_options": True, "allow_interspersed_args": False}


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for v in values:
        key, sep, value = v.partition("=")
        if not sep or not key:
            raise UsageError(f"{what} {v!r} must be KEY=VALUE")
        out[key] = value
    return out


def _param_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _tracer(config_path: str | None) -> Any:
    """The tracer every command gets (``bctrace --config``, or the default search). The 0.1
    spelling ``bctrace ml CMD --config FILE`` still works for one release, with a warning."""
    from ..cli.context import deprecated, get_tracer

    ctx = click.get_current_context()
    if config_path is not None:
        deprecated(f"'bctrace ml {ctx.info_name} --config FILE'", f"'bctrace --config FILE ml {ctx.info_name}'")
        state = ctx.find_root().obj
        if "tracer" not in state:
            state["config_path"] = config_path
    return get_tracer(ctx)


@ml.command("run", context_settings=_WRAP)
@click.option("--name", help="Run name (default: the script's name).")
@click.option("--input", "inputs", multiple=True, metavar="PATH[:ROLE]", help="Input file or folder to hash; ROLE is train (default), validation, test or other.")
@click.option("--output", "outputs", multiple=True, metavar="PATH", help="Output file or folder to hash after the command.")
@click.option("--model", "models", multiple=True, metavar="PATH", help="Saved model: torch state_dict or scikit-learn pickle hashed by parameters, else by bytes.")
@click.option("--metrics", "metrics_file", metavar="FILE.json", help="JSON object of metrics the command writes.")
@click.option("--seed", type=int, help="Seed: exported as BCTRACE_SEED and PYTHONHASHSEED to the command, and recorded.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Hyper-parameter to record (VALUE parsed as JSON when it can be).")
@click.option("--declare", "declares", multiple=True, metavar="KEY=VALUE", help="Checklist declaration: dataset_license, dataset_source, split_method, n_runs ...")
@click.option("--leakage", "leakages", multiple=True, metavar="ITEM=STATE", help="Leakage declaration: STATE is checked, not-applicable or unknown.")
@click.option("--bundle-dir", type=click.Path(file_okay=False), help="Where to write the run's bundles (default .bctrace/runs/RUN_ID/).")
@click.option("--no-flush", is_flag=True, help="Record only; anchor later with a flush.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), hidden=True)
@click.option("--json", "as_json", is_flag=True, help="Print the run's summary as one JSON line on stdout (after the command's own output).")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def run_cmd(name: str | None, inputs: tuple[str, ...], outputs: tuple[str, ...], models: tuple[str, ...], metrics_file: str | None, seed: int | None,
            params: tuple[str, ...], declares: tuple[str, ...], leakages: tuple[str, ...], bundle_dir: str | None, no_flush: bool,
            config_path: str | None, as_json: bool, command: tuple[str, ...]) -> None:
    """Run COMMAND (after --) as a recorded, anchored training run.

    Exits with the command's own exit status.
    """
    from .wrap import WrapSpec, parse_input, run_wrapped

    declarations: dict[str, Any] = dict(_pairs(declares, "--declare"))
    if leakages:
        declarations["leakage"] = _pairs(leakages, "--leakage")
    spec = WrapSpec(
        command=list(command), name=name, inputs=[parse_input(i) for i in inputs], outputs=list(outputs), models=list(models),
        metrics_file=metrics_file, seed=seed, params={k: _param_value(v) for k, v in _pairs(params, "--param").items()}, declarations=declarations,
    )
    wrapped = run_wrapped(_tracer(config_path), spec, bundle_dir=bundle_dir, flush=not no_flush)
    _summary(wrapped, as_json)
    click.get_current_context().exit(wrapped.exit_code)


@ml.command("reproduce")
@click.argument("bundle", type=click.Path(exists=True))
@click.option("--tolerance", "abs_tol", type=float, default=0.0, show_default=True, help="Absolute tolerance for metrics.")
@click.option("--rel-tolerance", "rel_tol", type=float, default=0.0, show_default=True, help="Relative tolerance for metrics.")
@click.option("--seed", type=int, help="Seed for the re-run (default: the recorded one).")
@click.option("--bundle-dir", type=click.Path(file_okay=False), help="Where to write the re-run's bundles.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), hidden=True)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as one JSON line on stdout (after the command's own output).")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def reproduce_cmd(bundle: str, abs_tol: float, rel_tol: float, seed: int | None, bundle_dir: str | None, config_path: str | None,
                  as_json: bool, command: tuple[str, ...]) -> None:
    """Verify the run recorded in BUNDLE (a bundle file or run folder), run COMMAND again (the
    recorded command if none is given) with the same inputs, outputs, model and metrics file,
    and compare. Exits 0 when reproduced, 1 naming every difference."""
    from ..errors import NotReproduced
    from .compare import compare_runs, load_run, run_view
    from .wrap import WrapSpec, run_wrapped

    if abs_tol < 0 or rel_tol < 0:
        raise UsageError("tolerances must not be negative")
    original = load_run(bundle)
    if "wrapper" not in original.end:
        raise UsageError(f"run {original.run_id} was not recorded with `bctrace ml run`: there is no command to re-run")
    spec = WrapSpec.from_json(original.end["wrapper"])
    spec.name = original.start.get("name")
    spec.declarations = dict(original.end.get("declarations") or {})
    if command:
        spec.command = list(command)
    if seed is not None:
        spec.seed = seed
    tracer = _tracer(config_path)
    original.verify(tracer)
    click.echo(f"bctrace: run {original.run_id} verified ({len(original.steps)} steps, anchors checked); re-running", err=True)
    wrapped = run_wrapped(tracer, spec, bundle_dir=bundle_dir, parent=original.run_id,
                          extra={"reproduces": {"run_id": original.run_id, "end_digest": original.steps[-1].digest}})
    _summary(wrapped)
    new = run_view(wrapped.run.recorded[0].record.body, wrapped.run.recorded[-1].record.body)
    diffs = compare_runs(run_view(original.start, original.end), new, abs_tol=abs_tol, rel_tol=rel_tol)
    info = [d for d in diffs if not d.fatal]
    fatal = [d for d in diffs if d.fatal]
    if as_json:
        click.echo(json.dumps({"reproduced": not fatal, "run_id": original.run_id, "rerun_id": wrapped.run.id,
                               "differences": [str(d) for d in fatal], "listed": [str(d) for d in info]}))
    if info:
        click.echo("environment and code differences (listed, not failures):", err=as_json)
        for d in info:
            click.echo(f"  ~ {d}", err=as_json)
    if fatal:
        click.echo(f"NOT REPRODUCED: {len(fatal)} difference(s):", err=as_json)
        for d in fatal:
            click.echo(f"  x {d}", err=as_json)
        raise NotReproduced(f"run {original.run_id} was not reproduced: {len(fatal)} difference(s) ({', '.join(d.what for d in fatal)})")
    click.echo(f"REPRODUCED: run {original.run_id} (inputs, outputs, model and metrics match; re-run {wrapped.run.id})", err=as_json)


@ml.command("report")
@click.argument("bundle", type=click.Path(exists=True))
@click.option("--offline", is_flag=True, help="Check digests, proofs and trace links only; do not ask the chains.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's merged record as JSON instead of tables.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), hidden=True)
def report_cmd(bundle: str, offline: bool, as_json: bool, config_path: str | None) -> None:
    """Show the run recorded in BUNDLE (a bundle file or run folder) with its reproducibility
    checklist, after verifying it."""
    from .compare import load_run, run_view
    from .report import render_report

    run = load_run(bundle)
    if offline:
        from .._internal.verify import check_offline, verify_trace

        for step, path in zip(run.steps, run.paths, strict=False):
            check_offline(step, str(path))
        verify_trace(run.steps)
        verified = "offline: digests, Merkle proofs and trace links (anchors not checked)"
    else:
        run.verify(_tracer(config_path))
        verified = f"digests, Merkle proofs, trace links and anchors ({', '.join(sorted({a.chain for s in run.steps for a in s.anchors}))})"
    if as_json:
        click.echo(json.dumps({"run_id": run.run_id, "verified": verified, **run_view(run.start, run.end)}, indent=2))
        return
    render_report(run, verified=verified)


def _summary(wrapped: Any, as_json: bool = False) -> None:
    run = wrapped.run
    anchored = "anchored" if wrapped.flushed is not None else "recorded (not anchored yet: run a flush)"
    where = wrapped.end_bundle or run.bundle_dir
    if as_json:
        click.echo(json.dumps({"run_id": run.id, "status": run.status, "exit_code": wrapped.exit_code, "steps": len(run.recorded),
                               "anchored": wrapped.flushed is not None, "end_bundle": str(where)}))
    click.echo(f"bctrace: run {run.id} {run.status} (exit {wrapped.exit_code}); {len(run.recorded)} steps {anchored}; end bundle: {where}", err=True)
