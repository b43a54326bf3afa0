"""HTML pages: log-in, registration, gallery, upload and a recording's page."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

import speakr
from speakr.db import User
from speakr.errors import AuthenticationError, SpeakrError, TooManyAttemptsError
from speakr.services import recordings as recording_service
from speakr.services.tokens import create_session, end_session
from speakr.services.users import authenticate, create_user
from speakr.web.api.auth import client_address
from speakr.web.deps import CurrentUser, DbDep, OptionalPrincipal, OwnedRecording, RuntimeDep
from speakr.web.security import (
    SESSION_COOKIE,
    check_csrf,
    clear_session_cookie,
    csrf_token,
    set_session_cookie,
)

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)
GALLERY_PAGE_SIZE = 24


def render(
    request: Request, name: str, user: User | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    base = {
        "user": user,
        "csrf_token": csrf_token(request),
        "static_url": "/static",
        "asset_version": speakr.__version__,
        "page_title": context.pop("page_title", "Speakr"),
        "status_code": status_code,
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def safe_next(target: str) -> str:
    """Only same-site paths; never an open redirect to another host."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_page(
    request: Request, runtime: RuntimeDep, principal: OptionalPrincipal, next: str = "/"
) -> Response:
    if principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, runtime, next_path=next)


def _login_form(
    request: Request,
    runtime: RuntimeDep,
    *,
    next_path: str,
    username: str = "",
    error: SpeakrError | None = None,
) -> Response:
    return render(
        request,
        "login.html",
        None,
        status_code=error.status if error else 200,
        page_title="Log in",
        error=error.message if error else None,
        username=username,
        next=safe_next(next_path),
        allow_registration=runtime.settings.ALLOW_REGISTRATION,
    )


@router.post("/login")
def login_submit(
    request: Request,
    runtime: RuntimeDep,
    db: DbDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form(alias="csrf_token")] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    check_csrf(request, csrf)
    try:
        user = authenticate(db, runtime.settings, username, password, client_address(request))
    except (AuthenticationError, TooManyAttemptsError) as exc:
        return _login_form(request, runtime, next_path=next, username=username, error=exc)
    secret = create_session(db, user, runtime.settings.SESSION_DAYS)
    db.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, request, secret, runtime.settings.SESSION_DAYS)
    return response


@router.post("/logout")
def logout(
    request: Request, db: DbDep, csrf: Annotated[str, Form(alias="csrf_token")] = ""
) -> Response:
    check_csrf(request, csrf)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        end_session(db, secret)
        db.commit()
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, request)
    return response


def _registration_closed(runtime: RuntimeDep) -> None:
    if not runtime.settings.ALLOW_REGISTRATION:
        raise SpeakrError(
            "Registration is closed; ask your administrator for an account.", status=404
        )


@router.get("/register")
def register_page(request: Request, runtime: RuntimeDep) -> Response:
    _registration_closed(runtime)
    return render(
        request,
        "register.html",
        None,
        page_title="Create account",
        error=None,
        username="",
        email="",
    )


@router.post("/register")
def register_submit(
    request: Request,
    runtime: RuntimeDep,
    db: DbDep,
    username: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password_confirm: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    _registration_closed(runtime)
    check_csrf(request, csrf)
    try:
        if password != password_confirm:
            raise SpeakrError("The two passwords do not match.", status=400)
        user = create_user(db, username, email, password)
    except SpeakrError as exc:
        db.rollback()
        return render(
            request,
            "register.html",
            None,
            status_code=exc.status,
            page_title="Create account",
            error=exc.message,
            username=username,
            email=email,
        )
    secret = create_session(db, user, runtime.settings.SESSION_DAYS)
    db.commit()
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, request, secret, runtime.settings.SESSION_DAYS)
    return response


@router.get("/")
def gallery(
    request: Request, db: DbDep, user: CurrentUser, q: str = "", status: str = "", page: int = 1
) -> Response:
    items, total = recording_service.list_recordings(
        db, user, q=q, status=status, page=max(page, 1), per_page=GALLERY_PAGE_SIZE
    )
    return render(
        request,
        "gallery.html",
        user,
        page_title="Recordings",
        recordings=[recording_service.recording_summary(r) for r in items],
        total=total,
        q=q,
        status_filter=status,
        page=max(page, 1),
        pages=max(math.ceil(total / GALLERY_PAGE_SIZE), 1),
    )


@router.get("/upload")
def upload_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "upload.html", user, page_title="Upload")


@router.get("/recordings/{recording_id}")
def recording_page(request: Request, user: CurrentUser, recording: OwnedRecording) -> Response:
    return render(
        request,
        "recording.html",
        user,
        page_title=recording.title,
        recording=recording_service.recording_detail(recording),
    )


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
