"""One place that turns errors into responses: JSON for the API, pages for browsers."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from speakr.errors import AuthenticationError, SpeakrError

logger = logging.getLogger(__name__)


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return (
        path.startswith("/api/")
        or path == "/health"
        or "text/html" not in request.headers.get("accept", "")
    )


def _respond(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    from speakr.web.pages import login_redirect, render

    if status == 401:
        return login_redirect(request)
    return render(
        request,
        "error.html",
        None,
        status_code=status,
        page_title="Error",
        message=message,
    )


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        location = ".".join(
            str(p) for p in error.get("loc", ()) if p not in {"body", "query", "path"}
        )
        parts.append(f"{location or 'request'}: {error.get('msg', 'invalid')}")
    return "Invalid request — " + "; ".join(parts) + "."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SpeakrError)
    async def speakr_error(request: Request, exc: SpeakrError) -> Response:
        if not isinstance(exc, AuthenticationError) and exc.status >= 500:
            logger.error("%s %s failed: %s", request.method, request.url.path, exc.message)
        return _respond(request, exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return _respond(request, 422, _describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404 and message == "Not Found":
            message = "There is nothing at this address."
        return _respond(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, _exc: Exception) -> Response:
        logger.exception("Unhandled error on %s %s", request.method, request.url.path)
        return _respond(request, 500, "Something went wrong on the server; the error is logged.")
