"""Built-in plugin: the ``bctrace ml run | reproduce | report`` commands, and the run API behind
``Tracer.run`` (through the ``bctrace_run_factory`` hook)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .._internal.hookspecs import hookimpl
from .._internal.registry import CommandRegistry, KindRegistry
from ..errors import UsageError


@hookimpl
def bctrace_register_commands(registry: CommandRegistry) -> None:
    registry.add(ml)


@hookimpl
def bctrace_register_kinds(registry: KindRegistry) -> None:
    registry.add("ml-run", "bctrace.ml.kind:MlRunBody", description="A step (start, checkpoint, end) of an ML training run")


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


def _run_options(fn: Any) -> Any:
    """The options of ``ml run``, shared with ``ml audit`` (which runs the same command)."""
    options = [
        click.option("--name", help="Run name (default: the script's name)."),
        click.option("--input", "inputs", multiple=True, metavar="PATH[:ROLE]", help="Input file or folder to hash; ROLE is train (default), validation, test or other."),
        click.option("--output", "outputs", multiple=True, metavar="PATH", help="Output file or folder to hash after the command."),
        click.option("--model", "models", multiple=True, metavar="PATH", help="Saved model: torch state_dict or scikit-learn pickle hashed by parameters, else by bytes."),
        click.option("--metrics", "metrics_file", metavar="FILE.json", help="JSON object of metrics the command writes (a list of numbers is one value per step)."),
        click.option("--seed", type=int, help="Seed: exported as BCTRACE_SEED and PYTHONHASHSEED to the command, and recorded."),
        click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Hyper-parameter to record (VALUE parsed as JSON when it can be)."),
        click.option("--declare", "declares", multiple=True, metavar="KEY=VALUE", help="Checklist declaration: dataset_license, dataset_source, split_method, n_runs ..."),
        click.option("--leakage", "leakages", multiple=True, metavar="ITEM=STATE", help="Leakage declaration: STATE is checked, not-applicable or unknown."),
        click.option("--bundle-dir", type=click.Path(file_okay=False), help="Where to write the run's bundles (default .bctrace/runs/RUN_ID/)."),
        click.option("--config", "config_path", type=click.Path(dir_okay=False), hidden=True),
        click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _spec(name: str | None, inputs: tuple[str, ...], outputs: tuple[str, ...], models: tuple[str, ...], metrics_file: str | None, seed: int | None,
          params: tuple[str, ...], declares: tuple[str, ...], leakages: tuple[str, ...], command: tuple[str, ...]) -> Any:
    from .wrap import WrapSpec, parse_input

    declarations: dict[str, Any] = dict(_pairs(declares, "--declare"))
    if leakages:
        declarations["leakage"] = _pairs(leakages, "--leakage")
    return WrapSpec(
        command=list(command), name=name, inputs=[parse_input(i) for i in inputs], outputs=list(outputs), models=list(models),
        metrics_file=metrics_file, seed=seed, params={k: _param_value(v) for k, v in _pairs(params, "--param").items()}, declarations=declarations,
    )


@ml.command("run", context_settings=_WRAP)
@_run_options
@click.option("--no-flush", is_flag=True, help="Record only; anchor later with a flush.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's summary as one JSON line on stdout (after the command's own output).")
def run_cmd(name: str | None, inputs: tuple[str, ...], outputs: tuple[str, ...], models: tuple[str, ...], metrics_file: str | None, seed: int | None,
            params: tuple[str, ...], declares: tuple[str, ...], leakages: tuple[str, ...], bundle_dir: str | None, no_flush: bool,
            config_path: str | None, as_json: bool, command: tuple[str, ...]) -> None:
    """Run COMMAND (after --) as a recorded, anchored training run.

    Exits with the command's own exit status.
    """
    from .wrap import run_wrapped

    spec = _spec(name, inputs, outputs, models, metrics_file, seed, params, declares, leakages, command)
    wrapped = run_wrapped(_tracer(config_path), spec, bundle_dir=bundle_dir, flush=not no_flush)
    _summary(wrapped, as_json)
    click.get_current_context().exit(wrapped.exit_code)


@ml.command("audit", context_settings=_WRAP)
@_run_options
@click.option("--runs", type=int, default=2, show_default=True, help="Runs to compare (and runs per pinning trial).")
@click.option("--no-vary", is_flag=True, help="Do not vary listing order and thread count between runs (only natural nondeterminism shows).")
@click.option("--json", "as_json", is_flag=True, help="Print the audit as JSON.")
def audit_cmd(name: str | None, inputs: tuple[str, ...], outputs: tuple[str, ...], models: tuple[str, ...], metrics_file: str | None, seed: int | None,
              params: tuple[str, ...], declares: tuple[str, ...], leakages: tuple[str, ...], bundle_dir: str | None, config_path: str | None,
              command: tuple[str, ...], runs: int, no_vary: bool, as_json: bool) -> None:
    """Run COMMAND (after --) --runs times in fresh processes with the same inputs and compare
    model, metrics, outputs and predictions. When they differ, pin the known sources of
    nondeterminism one at a time and together, and name the cause and the lines that fix it.

    The first run is recorded like `ml run`; the audit is recorded (kind ml-audit) next to it.
    Exits 0 reproducible, 1 not reproducible (with the diagnosis), 2 usage error.
    """
    from .audit import run_audit
    from .audit_text import render_audit

    spec = _spec(name, inputs, outputs, models, metrics_file, seed, params, declares, leakages, command)
    if not (spec.models or spec.outputs or spec.metrics_file):
        raise UsageError("nothing to compare: give --model, --output or --metrics (what the command writes)")
    result = run_audit(_tracer(config_path), spec, runs=runs, vary=not no_vary, bundle_dir=bundle_dir,
                       progress=lambda text: click.echo(f"bctrace audit: {text}", err=True))
    if as_json:
        click.echo(json.dumps({**result.as_json(), "audit_bundle": str(result.bundle_path), "audit_digest": result.recorded.digest_hex if result.recorded else None}, indent=2))
    else:
        render_audit(result.as_json(), echo=click.echo)
        click.echo(f"audit recorded: {result.bundle_path}")
    click.get_current_context().exit(result.exit_code)


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
    if original.end.get("status") != "ok":
        rc = (original.end.get("process") or {}).get("exit_code")
        raise UsageError(f"run {original.run_id} failed (exit {rc}): it has no result to reproduce")
    spec = WrapSpec.from_json(original.end["wrapper"])
    spec.name = original.start.get("name")
    spec.declarations = dict(original.end.get("declarations") or {})
    if command:
        spec.command = list(command)
    if seed is not None:
        spec.seed = seed
    tracer = _tracer(config_path)
    original.verify(tracer)
    _report_version_changes(run_view(original.start, original.end))
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


def _report_version_changes(view: dict[str, Any]) -> None:
    """Before a re-run: which installed versions differ from the recorded run's."""
    from .capture import _distributions
    from .envfile import version_changes

    changes = version_changes((view.get("environment") or {}).get("packages") or {}, _distributions()[0])
    if not changes:
        click.echo("installed packages: the same versions as the recorded run")
        return
    click.echo(f"installed packages that differ from the recorded run ({len(changes)}):")
    for c in changes:
        click.echo(f"  ~ {c['name']} {c['recorded']} -> {c['installed']} ({c['change']})")


@ml.command("env")
@click.argument("bundle", type=click.Path(exists=True))
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, allow_dash=True), default="-", show_default=True, help="Requirements file to write ('-': standard output).")
def env_cmd(bundle: str, output: str) -> None:
    """Write a pinned requirements file of the run recorded in BUNDLE (a bundle file or run
    folder): every recorded distribution at its exact version, with the Python version and
    platform as comments. The bundles are checked offline (digests, proofs, trace links) first."""
    from .compare import load_run, run_view
    from .envfile import requirements_text

    run = load_run(bundle)
    _verify_offline(run)
    text = requirements_text(run_view(run.start, run.end), run.run_id)
    if output == "-":
        click.echo(text, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as err:
        raise UsageError(f"cannot write {output}: {err.strerror}") from err
    pins = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    click.echo(f"wrote {output}: {pins} pinned distributions of run {run.run_id}", err=True)


@ml.command("report")
@click.argument("bundle", type=click.Path(exists=True))
@click.option("--offline", is_flag=True, help="Check digests, proofs and trace links only; do not ask the chains.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's merged record as JSON instead of tables.")
@click.option("--compare", "compare_with", type=click.Path(exists=True), help="Another run (bundle or folder) to plot beside this one (default: the run this one re-ran).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Where to write the metrics plot (default: metrics.png in the run's folder).")
@click.option("--no-plot", is_flag=True, help="Do not write the metrics plot.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), hidden=True)
def report_cmd(bundle: str, offline: bool, as_json: bool, compare_with: str | None, plot_path: str | None, no_plot: bool, config_path: str | None) -> None:
    """Show the run recorded in BUNDLE (a bundle file or run folder) with its reproducibility
    checklist and its audits, after verifying them; plot its metrics per step (and those of the
    run it re-ran) as a PNG next to it."""
    from .compare import load_run, run_view
    from .report import find_audits, other_run, render_report

    run = load_run(bundle)
    audits = find_audits(run)
    if offline:
        _verify_offline(run)
        for audit_bundle, path in audits:
            _check_offline(audit_bundle, path)
        verified = "offline: digests, Merkle proofs and trace links (anchors not checked)"
    else:
        tracer = _tracer(config_path)
        run.verify(tracer)
        for _, path in audits:
            tracer.verify(path)
        verified = f"digests, Merkle proofs, trace links and anchors ({', '.join(sorted({a.chain for s in run.steps for a in s.anchors}))})"
    view = run_view(run.start, run.end)
    audit_bodies = [b.record["body"] for b, _ in audits]
    if as_json:
        click.echo(json.dumps({"run_id": run.run_id, "verified": verified, **view, "audits": audit_bodies}, indent=2))
        return
    render_report(run, verified=verified)
    if audit_bodies:
        from .audit_text import render_audit

        for body in audit_bodies:
            click.echo(f"Audit ({body.get('runs')} runs of {' '.join(body.get('command') or [])}):")
            render_audit(body, echo=lambda line: click.echo(f"  {line}"))
    if not no_plot:
        _plot(run, other_run(run, compare_with), plot_path)


def _plot(run: Any, other: Any, plot_path: str | None) -> None:
    """Metrics per step as a PNG: this run, and the original it re-ran (or the run compared)."""
    from .plot import plot_metrics

    curves = [(f"run {run.run_id[:8]}", run.end.get("metric_history") or [])]
    if other is not None:
        rerun = (run.end.get("reproduces") or {}).get("run_id") == other.run_id
        curves = [(f"{'original' if rerun else 'compared'} {other.run_id[:8]}", other.end.get("metric_history") or []),
                  (f"{'re-run' if rerun else 'run'} {run.run_id[:8]}", curves[0][1])]
    target = Path(plot_path) if plot_path else run.paths[0].parent / "metrics.png"
    try:
        drawn = plot_metrics(curves, target)
    except ImportError:
        click.echo("plot: not drawn (matplotlib is not installed: pip install 'bctrace[ml]')")
        return
    except OSError as err:
        raise UsageError(f"cannot write the plot {target}: {err.strerror}") from err
    if drawn is None:
        click.echo("plot: not drawn (no metric was logged at two or more steps)")
    else:
        click.echo(f"plot: {drawn} (metrics per step of {' and '.join(label for label, _ in curves)})")


def _check_offline(bundle: Any, path: Any) -> None:
    from .._internal.verify import check_offline

    check_offline(bundle, str(path))


def _verify_offline(run: Any) -> None:
    """Digests, Merkle proofs and trace links of every step; no chain is asked."""
    from .._internal.verify import verify_trace

    for step, path in zip(run.steps, run.paths, strict=False):
        _check_offline(step, path)
    verify_trace(run.steps)


def _summary(wrapped: Any, as_json: bool = False) -> None:
    run = wrapped.run
    anchored = "anchored" if wrapped.flushed is not None else "recorded (not anchored yet: run a flush)"
    where = wrapped.end_bundle or run.bundle_dir
    if as_json:
        click.echo(json.dumps({"run_id": run.id, "status": run.status, "exit_code": wrapped.exit_code, "steps": len(run.recorded),
                               "anchored": wrapped.flushed is not None, "end_bundle": str(where)}))
    click.echo(f"bctrace: run {run.id} {run.status} (exit {wrapped.exit_code}); {len(run.recorded)} steps {anchored}; end bundle: {where}", err=True)
