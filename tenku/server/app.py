"""`create_app`: the FastAPI application of `tenku serve`.

The model, the job store, the queue, the in-process worker threads and the webhook sender are built in `lifespan`
(off the event loop) and shared through `app.state.services`. Every response carries an `x-request-id` header
(the SDK exposes it as `exc.request_id`), and every error, including unknown URLs, validation failures, oversize
bodies and bugs, is OpenAI's JSON envelope.
"""

from __future__ import annotations

import logging
import secrets
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

import tenku
from tenku.errors import TenkuError
from tenku.server.errors import ApiError, envelope, too_large
from tenku.server.generator import Generator
from tenku.server.services import build_services
from tenku.server.settings import ServerSettings
from tenku.server.videos import router as videos_router

log = logging.getLogger("tenku.server")

DRAIN_LIMIT = 64 << 20  # read (and drop) up to this much of an oversize body so the client sees the 413


def create_app(settings: ServerSettings | None = None, generator: Generator | None = None) -> FastAPI:
    """The app for `settings`; `generator` replaces the one `settings` would load (tests pass a fake)."""
    settings = settings or ServerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        services = await anyio.to_thread.run_sync(build_services, settings, generator)
        app.state.services = services
        await anyio.to_thread.run_sync(services.start)
        log.info("tenku serving model %r from %s with %d worker thread(s)", services.model_name,
                 settings.data_dir, settings.workers_in_process)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(services.stop)

    app = FastAPI(
        title="tenku",
        version=getattr(tenku, "__version__", "0"),
        summary="OpenAI Videos API (Sora 2) compatible server for self-hosted text-to-video.",
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=int(settings.max_upload_mb * 2**20))
    app.add_middleware(RequestIdMiddleware)  # added last: outermost, so even a 413 from the limit carries the id
    _install_error_handlers(app)
    app.include_router(videos_router)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


# -- middleware --------------------------------------------------------------------------------------------------


class RequestIdMiddleware:
    """Gives each request an id (`req_<hex>`), kept in `request.state.request_id` and sent as `x-request-id`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = "req_" + secrets.token_hex(16)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


class BodyLimitMiddleware:
    """413 for a body over `max_bytes`: at once from Content-Length (what the SDK always sends), or while a chunked
    body streams in (the error surfaces inside the route's body parsing and goes through the handlers)."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    def _error(self) -> ApiError:
        return too_large(f"The request body is larger than this server's limit of {self.max_bytes} bytes "
                         f"({self.max_bytes / 2**20:g} MiB).")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            # drain what a well-behaved client is still sending, so it reads our answer instead of a reset
            drained, more = 0, int(length) <= self.max_bytes + DRAIN_LIMIT
            while more:
                message = await receive()
                drained += len(message.get("body", b""))
                more = message.get("more_body", False) and message["type"] == "http.request"
            err = self._error()
            await JSONResponse(err.body(), status_code=err.status)(scope, receive, send)
            return
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._error()
            return message

        await self.app(scope, limited_receive, send)


# -- errors ------------------------------------------------------------------------------------------------------


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(TenkuError)
    async def tenku_error(request: Request, exc: TenkuError) -> JSONResponse:
        return JSONResponse(envelope(str(exc), type="invalid_request_error", code="invalid_value"), status_code=400)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        err = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body", "header", "cookie")]
        param = ".".join(loc) or None
        msg = f"Invalid value for '{param}': {err.get('msg')}." if param else f"Invalid request: {err.get('msg')}."
        return JSONResponse(envelope(msg, type="invalid_request_error", param=param, code="invalid_value"),
                            status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            msg, code = f"Unknown request URL: {request.method} {request.url.path}.", "unknown_url"
        elif exc.status_code == 405:
            msg, code = f"Method {request.method} is not allowed on {request.url.path}.", "method_not_allowed"
        else:
            msg, code = str(exc.detail), None
        return JSONResponse(envelope(msg, type="invalid_request_error", code=code), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        # runs in Starlette's outermost middleware, past RequestIdMiddleware: set the id header here
        request_id = request.scope.get("state", {}).get("request_id", "")
        log.error("request %s failed", request_id, exc_info=exc)
        body = envelope(f"The server had an error while processing your request (request id {request_id}).",
                        type="server_error", code="internal_error")
        return JSONResponse(body, status_code=500, headers={"x-request-id": request_id})
