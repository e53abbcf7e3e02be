"""``python -m bctrace.service [--config FILE] serve|token ...``: the anchoring service on its
own (the same app and options as ``bctrace serve``)."""

from __future__ import annotations

import click

from ..cli.app import BctraceGroup
from ..cli.context import get_config
from .cli import build_options, run, service_options, token_group, with_outbox


class _Group(BctraceGroup):
    """BctraceGroup's one-line errors, with this module's own commands."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return click.Group.get_command(self, ctx, cmd_name)


@click.group(cls=_Group)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="BCTRACE_CONFIG")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """The bctrace anchoring service."""
    ctx.obj = {"config_path": config_path}


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@service_options
def serve(host: str, port: int, db: str | None, anchor_every: str | None, anchor_at: int | None, max_body: int | None,
          rate_limit: float | None, cors_origin: tuple[str, ...]) -> None:
    """Run the anchoring service's /v1 API."""
    from .app import build_app

    config = with_outbox(get_config(), db)
    run(build_app(config, build_options(anchor_every, anchor_at, max_body, rate_limit, cors_origin)), host, port)


main.add_command(token_group)

if __name__ == "__main__":
    main()
