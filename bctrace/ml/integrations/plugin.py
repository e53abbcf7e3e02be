"""Built-in plugin: the ``bctrace mlflow`` commands (anchor / verify MLflow runs).

MLflow is imported only when a command runs, so ``bctrace`` starts as fast without it.
"""

from __future__ import annotations

from typing import Any

import click

from ...errors import UsageError
from ...plugins import hookimpl


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
@click.pass_context
def anchor_cmd(ctx: click.Context, run_ids: tuple[str, ...], tracking_uri: str | None, no_bundle: bool, as_json: bool) -> None:
    """Record each MLflow run (params, metric history, tags, inputs, artifact hashes), anchor it,
    and tag the run with the anchor (bctrace.chain, bctrace.tx, bctrace.root...)."""
    from ...cli import emit_json, open_tracer

    integration = _integration()
    tracer = open_tracer(ctx)
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
@click.pass_context
def verify_cmd(ctx: click.Context, run_id: str, tracking_uri: str | None, bundle_path: str | None) -> None:
    """Check the run's bundle on its chains and that the run still matches the anchored record;
    exit 1 naming what changed."""
    from ...cli import open_tracer

    integration = _integration()
    report = integration.verify_run(run_id, tracer=open_tracer(ctx), client=integration.MlflowClient(tracking_uri), bundle=bundle_path)
    chains = ", ".join(c.chain for c in report.chains if c.ok)
    click.echo(f"{run_id}  matches its anchored record; anchor confirmed on {chains}")


@hookimpl
def bctrace_add_commands(cli: click.Group) -> None:
    cli.add_command(mlflow_group)
