"""create_app(settings) -> FastAPI. Nothing runs at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

import speakr
from speakr.db import session_scope
from speakr.db.migrate import upgrade
from speakr.runtime import Runtime
from speakr.services.users import ensure_admin
from speakr.settings import Settings
from speakr.web import pages
from speakr.web.api import api_router
from speakr.web.errors import install_error_handlers
from speakr.web.security import SecurityMiddleware

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "web" / "static"
SWAGGER_DIR = "/static/vendor/swagger-ui-5.35.0"


def prepare_storage(runtime: Runtime) -> None:
    """Folders, the secret key, migrations and the admin: everything a process needs first."""
    settings = runtime.settings
    settings.UPLOAD_FOLDER.mkdir(parents=True, exist_ok=True)
    settings.instance_folder.mkdir(parents=True, exist_ok=True)
    settings.secret_key()
    upgrade(settings.database_url)
    with session_scope(runtime.sessions) as db:
        ensure_admin(db, settings)


def create_app(settings: Settings, *, run_worker: bool = True) -> FastAPI:
    runtime = Runtime.build(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(prepare_storage, runtime)
        if run_worker:
            runtime.queue.start_consumer(settings.WORKER_THREADS, in_thread=True)
            logger.info("In-process worker started with %d thread(s)", settings.WORKER_THREADS)
        yield
        runtime.close()

    app = FastAPI(
        title="Speakr",
        version=speakr.__version__,
        description="Self-hosted transcripts, titles and summaries of audio recordings.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.secret_key = settings.secret_key()
    app.add_middleware(SecurityMiddleware, secret=app.state.secret_key)
    install_error_handlers(app)
    app.include_router(api_router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Speakr API",
            swagger_js_url=f"{SWAGGER_DIR}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_DIR}/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    @app.get("/health", tags=["system"])
    def health() -> JSONResponse:
        """Readiness of the database, the queue and the transcription engine."""
        report: dict[str, Any] = {"status": "ok", "version": speakr.__version__}
        try:
            with runtime.sessions() as db:
                db.execute(text("SELECT 1"))
            report["db"] = "ok"
        except Exception as exc:
            report["status"], report["db"] = "error", f"unavailable: {exc}"
        try:
            report["queue"] = f"ok ({runtime.queue.queue_size()} waiting)"
        except Exception as exc:
            report["status"], report["queue"] = "error", f"unavailable: {exc}"
        try:
            report["engine"] = runtime.transcriber.readiness()
        except Exception as exc:
            report["status"], report["engine"] = "error", str(exc)
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    return app
