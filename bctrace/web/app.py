"""The ASGI app of ``bctrace serve``: the static verifier at ``/`` and, for the project it runs
in, read-only pages of its own records. Nothing here writes to the project.

Other parts of bctrace (and plugins) add their own routes through ``build_app``'s
``extra_routes`` rather than by editing this module: the service API mounts itself under ``/v1``
that way, so this app stays the one place that decides what ``bctrace serve`` exposes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from .site import site_files

if TYPE_CHECKING:
    from .._internal.tracer import Tracer

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def build_app(project: Tracer | None, *, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The app of ``bctrace serve``.

    :param project: the tracer of the project being served (its config, outbox and state folder),
        or None to serve the verifier alone.
    :param extra_routes: more Starlette routes or mounts (``Route``, ``Mount``) appended after
        the built-in ones, e.g. ``[Mount("/v1", app=service_api)]``. They see the same app
        state: ``request.app.state.project`` is ``project``.
    """
    site = site_files()

    async def verifier(request: Request) -> Response:
        return HTMLResponse(site["index.html"], headers=SECURITY_HEADERS)

    routes: list[BaseRoute] = [Route("/", verifier, methods=["GET"]), *extra_routes]
    app = Starlette(routes=routes)
    app.state.project = project
    return app
