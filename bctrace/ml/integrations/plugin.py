"""Built-in plugin: the ``bctrace mlflow`` commands (anchor / verify MLflow runs).

MLflow is imported only when a command runs, so ``bctrace`` starts as fast without it.
"""

from __future__ import annotations

from typing import Any

import click

from ..._internal.hookspecs import hookimpl
from ..._internal.registry import CommandRegistry
from ...errors import UsageError


def _integration() -> Any:
    try:
        from . import mlflow as integration
    except ImportError as err:
        raise UsageError(f"the MLflow integration needs mlflow ({err.name} is not installed): pip install 'bctrace[mlflow]'") from err
    return integration


@click.group("mlflow")
def mlflow_group() -> None:
    """Anchor MLflow runs and check them against their anchors."""


@mlflow_group.command("anchor")
@click.argument("run_ids", nargs=-1, required=True)
@click.option("--tracking-uri", envvar="MLFLOW_TRACKING_URI", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else MLflow's default).")
@click.option("--no-bundle", is_flag=True, help="Do not log the proof bundle as a run artifact.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def anchor_cmd(run_ids: tuple[str, ...], tracking_uri: str | None, no_bundle: bool, as_json: bool) -> None:
    """Record each MLflow run (params, metric history, tags, inputs, artifact hashes), anchor it,
    and tag the run with the anchor (bctrace.chain, bctrace.tx, bctrace.root...)."""
    from ...cli.context import emit_json, get_tracer

    integration = _integration()
    tracer = get_tracer()
    client = integration.MlflowClient(tracking_uri)
    done = [integration.anchor_run(run_id, tracer=tracer, client=client, log_bundle=not no_bundle) for run_id in run_ids]
    if as_json:
        emit_json([{"run_id": d.run_id, "tags": d.tags} for d in done])
        return
    for d in done:
        click.echo(f"{d.run_id}  anchored {d.tags['bctrace.digest']} on {d.tags['bctrace.chain']} (tx {d.tags['bctrace.tx']})")


@mlflow_group.command("verify")
@click.argument("run_id")
@click.option("--tracking-uri", envvar="MLFLOW_TRACKING_URI", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else MLflow's default).")
@click.option("--bundle", "bundle_path", type=click.Path(exists=True, dir_okay=False), help="Bundle file (default: the one logged on the run).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def verify_cmd(run_id: str, tracking_uri: str | None, bundle_path: str | None, as_json: bool) -> None:
    """Check the run's bundle on its chains and that the run still matches the anchored record;
    exit 1 naming what changed."""
    from ...cli.context import emit_json, get_tracer

    integration = _integration()
    report = integration.verify_run(run_id, tracer=get_tracer(), client=integration.MlflowClient(tracking_uri), bundle=bundle_path)
    if as_json:
        emit_json({"run_id": run_id, "verified": True, **report.to_dict()})
        return
    chains = ", ".join(c.chain for c in report.chains if c.ok)
    click.echo(f"{run_id}  matches its anchored record; anchor confirmed on {chains}")


@hookimpl
def bctrace_register_commands(registry: CommandRegistry) -> None:
    registry.add(mlflow_group)
