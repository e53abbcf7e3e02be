"""The read-only project pages of ``bctrace serve``: ``/traces`` (list and search),
``/traces/<id>`` and ``/runs/<id>`` (the verifier page loading that trace's bundles, so the
browser checks them itself rather than trusting this server), ``/traces/<id>/bundles`` (their
URLs, as JSON), ``/bundles/<digest>`` (download)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..errors import BctraceError
from .records import TraceSummary, anchored_digests, list_traces

if TYPE_CHECKING:
    from .._internal.tracer import Tracer

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; form-action 'self'">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem;line-height:1.5;color:#1b1b1b}}
table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #ccc;padding:.25rem;text-align:left;vertical-align:top}}
code{{font-family:ui-monospace,monospace;overflow-wrap:anywhere}}a{{color:#0645ad}}input,button{{font-size:1rem}}</style></head>
<body><header><p><a href="/">Verifier</a> · <a href="/traces">Traces</a></p><h1>{title}</h1></header><main>{body}</main></body></html>"""


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=html.escape(title), body=body), status_code=status)


def _trace_row(t: TraceSummary) -> str:
    link = f"/runs/{quote(t.trace)}" if t.is_run else f"/traces/{quote(t.trace)}"
    return (f'<tr data-testid="trace"><td><a href="{link}"><code>{html.escape(t.trace)}</code></a></td>'
            f"<td>{html.escape(', '.join(map(str, t.kinds)))}</td><td>{t.steps} ({t.anchored} anchored)</td>"
            f"<td>{html.escape(t.first_created)}</td><td>{html.escape(t.last_created)}</td></tr>")


def project_routes(project: Tracer) -> Sequence[BaseRoute]:
    """The routes of the project pages (read-only: nothing here writes to the project)."""
    outbox = project.outbox

    async def traces(request: Request) -> Response:
        query = request.query_params.get("q", "")
        found = list_traces(outbox, query)
        form = ('<form method="get" action="/traces" role="search"><label for="q">Search by trace id, kind or a subject\'s sha256</label> '
                f'<input id="q" name="q" value="{html.escape(query)}" size="40"> <button type="submit">Search</button></form>')
        if not found:
            return page("Traces", form + ("<p>No trace matches.</p>" if query else "<p>This project has no records yet.</p>"))
        rows = "".join(_trace_row(t) for t in found)
        table = ('<table><caption>Traces, newest first</caption><thead><tr><th scope="col">Trace</th><th scope="col">Kinds</th>'
                 f'<th scope="col">Steps</th><th scope="col">First step</th><th scope="col">Last step</th></tr></thead><tbody>{rows}</tbody></table>')
        return page("Traces", form + table)

    def verifier_for(request: Request, trace: str) -> Response:
        """The verifier page loading the trace's bundles (listed at ``/traces/<id>/bundles``, so
        a long trace does not make a long URL); the page's own settings in the query (``rpc``,
        ``trust``) are passed on."""
        if not anchored_digests(outbox, trace):
            return page("Not found", f"<p>No anchored step of trace <code>{html.escape(trace)}</code> in this project.</p>", 404)
        settings = [(k, v) for k, v in request.query_params.multi_items() if k in ("rpc", "trust")]
        return RedirectResponse("/?" + urlencode([*settings, ("bundles", f"/traces/{quote(trace)}/bundles")]), status_code=303)

    async def trace_bundles(request: Request) -> Response:
        return JSONResponse([f"/bundles/{d}" for d in anchored_digests(outbox, request.path_params["trace"])])

    async def trace_page(request: Request) -> Response:
        return verifier_for(request, request.path_params["trace"])

    async def run_page(request: Request) -> Response:
        run = request.path_params["run"]
        if not any(t.is_run and t.trace == run for t in list_traces(outbox, run)):
            return page("Not found", f"<p>No ML run <code>{html.escape(run)}</code> in this project.</p>", 404)
        return verifier_for(request, run)

    async def bundle(request: Request) -> Response:
        digest = request.path_params["digest"]
        try:
            text = project.bundle(digest).to_json()
        except BctraceError as err:
            return Response(f"error: {err.one_line()}\n", status_code=404, media_type="text/plain")
        return Response(text, media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{digest}.bctrace.json"'})

    return [
        Route("/traces", traces, methods=["GET"]),
        Route("/traces/{trace}", trace_page, methods=["GET"]),
        Route("/traces/{trace}/bundles", trace_bundles, methods=["GET"]),
        Route("/runs/{run}", run_page, methods=["GET"]),
        Route("/bundles/{digest}", bundle, methods=["GET"]),
    ]
