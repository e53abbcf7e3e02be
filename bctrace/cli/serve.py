"""``bctrace serve``: the in-browser verifier and the project's records over HTTP (loopback by
default), or ``--export DIR`` to write the static verifier site and exit."""

from __future__ import annotations

import socket
from pathlib import Path

import click

from ..errors import UsageError
from .context import get_tracer


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback by default; anything else exposes the project's records).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port).")
@click.option("--export", "export_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write the static verifier site into DIR and exit (no server, no project needed).")
def serve(host: str, port: int, export_dir: Path | None) -> None:
    """Serve the verifier at / and read-only pages of this project's records."""
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
    app = build_app(get_tracer())
    sock = _listen(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    click.echo(f"bctrace serve: http://{shown}:{bound_port}/ (Ctrl-C to stop)", err=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    server.run(sockets=[sock])


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
