"""Build the service: the ``/v1`` routes with their shared state, the anchoring thread started
and stopped with the app (``lifespan``), and CORS closed unless origins are named."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from .._internal.config import Config
from .api import Limits, Service, v1_routes
from .scheduler import AnchorScheduler
from .tokens import TokenStore

logger = logging.getLogger("bctrace.service")


@dataclass
class ServiceOptions:
    anchor_every: float | None = None
    """Seconds between anchors (30 when neither this nor ``anchor_at`` is set)."""
    anchor_at: int | None = None
    """Anchor as soon as this many records are pending."""
    limits: Limits = field(default_factory=Limits)
    cors_origins: Sequence[str] = ()
    """Browser origins allowed to call ``/v1`` (none by default: CORS closed)."""
    shutdown_grace: float = 30.0


def make_service(config: Config, options: ServiceOptions) -> Service:
    tokens = TokenStore(config.state_dir, config.outbox)
    scheduler = AnchorScheduler(config, every=options.anchor_every, at=options.anchor_at)
    return Service(config, tokens, scheduler, options.limits)


def install(app: Starlette, service: Service, grace: float = 30.0) -> None:
    """Put the service's state on ``app`` (the routes find it there)."""
    app.state.bctrace_service = service
    app.state.bctrace_shutdown_grace = grace


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Start the anchoring thread; at shutdown let the batch in flight finish (or, past the
    grace time, leave it claimed by a connection that closes with the process)."""
    service: Service = app.state.bctrace_service
    service.scheduler.start()
    logger.info("service up: anchoring every %s s / at %s records", service.scheduler.every, service.scheduler.at)
    try:
        yield
    finally:
        finished = service.scheduler.stop(app.state.bctrace_shutdown_grace)
        logger.info("service stopping: %s", "batch in flight finished" if finished else "batch in flight released with the connection")
        service.close()


class ServiceRun:
    """The service inside ``bctrace serve``'s app (whose lifespan is off): its routes go into
    the app, ``attach`` adds its state and CORS, ``start``/``stop`` run the anchoring thread
    around the server."""

    def __init__(self, config: Config, options: ServiceOptions) -> None:
        self.options = options
        self.service = make_service(config, options)
        self.routes = v1_routes()

    def attach(self, app: Starlette) -> None:
        install(app, self.service, self.options.shutdown_grace)
        if self.options.cors_origins:
            app.add_middleware(CORSMiddleware, allow_origins=list(self.options.cors_origins), allow_methods=["GET", "POST"],
                               allow_headers=["Authorization", "Content-Type"])

    def start(self) -> None:
        self.service.scheduler.start()
        logger.info("service up: anchoring every %s s / at %s records", self.service.scheduler.every, self.service.scheduler.at)

    def stop(self) -> None:
        finished = self.service.scheduler.stop(self.options.shutdown_grace)
        logger.info("service stopping: %s", "batch in flight finished" if finished else "batch in flight released with the connection")
        self.service.close()


def build_app(config: Config, options: ServiceOptions) -> Starlette:
    """A standalone app with the ``/v1`` routes (``bctrace serve`` mounts the same routes)."""
    middleware = []
    if options.cors_origins:
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(options.cors_origins), allow_methods=["GET", "POST"],
                                     allow_headers=["Authorization", "Content-Type"]))
    app = Starlette(routes=v1_routes(), middleware=middleware, lifespan=lifespan)
    install(app, make_service(config, options), options.shutdown_grace)
    return app
