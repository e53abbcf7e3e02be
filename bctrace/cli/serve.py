"""``bctrace serve``: the in-browser verifier and the project's records over HTTP (loopback by
default), or ``--export DIR`` to write the static verifier site and exit."""

from __future__ import annotations

import signal
import socket
from pathlib import Path
from typing import Any

import click

from ..errors import UsageError
from ..service.cli import service_options, token_group
from .context import get_tracer


@click.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback by default; anything else exposes the project's records).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port).")
@click.option("--export", "export_dir", type=click.Path(path_type=Path),  # a file there is export_site's one-line error
              help="Write the static verifier site into DIR and exit (no server, no project needed).")
@service_options
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, export_dir: Path | None, db: str | None, anchor_every: str | None,
          anchor_at: int | None, max_body: int | None, rate_limit: float | None, cors_origin: tuple[str, ...]) -> None:
    """Serve the verifier at / and read-only pages of this project's records; with --db,
    --anchor-every or --anchor-at, also the shared anchoring service's /v1 API."""
    if ctx.invoked_subcommand is not None:
        return
    if export_dir is not None:
        from ..web.site import export_site

        written = export_site(export_dir)
        click.echo(f"wrote the static verifier ({len(written)} files) to {export_dir}; open {export_dir / 'index.html'}")
        return
    try:
        import uvicorn

        from ..web.app import build_app
    except ImportError as err:
        raise UsageError(f"bctrace serve needs the 'serve' extra ({err.name} is missing): pip install 'bctrace[serve]'") from None
    tracer, service = get_tracer(), None
    if db or anchor_every or anchor_at:
        service, tracer = _service(tracer, db, anchor_every, anchor_at, max_body, rate_limit, cors_origin)
    app = build_app(tracer, extra_routes=service.routes if service else ())
    sock = _listen(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", log_config=None if service else uvicorn.config.LOGGING_CONFIG))
    if service is not None:
        service.attach(app)
        service.start()
        # uvicorn re-raises SIGTERM after its graceful shutdown; with this no-op handler that
        # returns here instead of killing the process, so the batch in flight is finished below.
        signal.signal(signal.SIGTERM, lambda *_: None)
    click.echo(f"bctrace serve: http://{shown}:{bound_port}/ (Ctrl-C to stop)", err=True)
    try:
        server.run(sockets=[sock])
    finally:
        if service is not None:
            service.stop()


def _service(tracer: Any, db: str | None, anchor_every: str | None, anchor_at: int | None, max_body: int | None,
             rate_limit: float | None, cors_origin: tuple[str, ...]) -> tuple[Any, Any]:
    """The anchoring service (``/v1``) on the project's config, with ``--db`` as its outbox."""
    try:
        from ..service.app import ServiceRun
        from ..service.cli import build_options, json_logs, with_outbox
    except ImportError as err:
        raise UsageError(f"the anchoring service needs the 'service' extra ({err.name} is missing): pip install 'bctrace[service]'") from None
    from .._internal.tracer import Tracer

    config = with_outbox(tracer.config, db)
    json_logs()
    run = ServiceRun(config, build_options(anchor_every, anchor_at, max_body, rate_limit, cors_origin))
    return run, (Tracer(config, plugin_manager=tracer.pm) if config is not tracer.config else tracer)


def _listen(host: str, port: int) -> socket.socket:
    """Bind before starting the server, so the real port (``--port 0``) is known and a port in
    use is one clear line rather than a log message from inside uvicorn."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, _, _, _, address = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as err:
        raise UsageError(f"bctrace serve: cannot listen on {host}:{port}: {err.strerror or err}") from None
    sock.set_inheritable(True)
    return sock


serve.add_command(token_group)
