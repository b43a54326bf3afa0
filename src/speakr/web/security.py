"""Cookies, CSRF and security headers.

CSRF uses a signed double-submit token: an HttpOnly, SameSite=Strict cookie holding a random
nonce signed with SECRET_KEY (so a cookie planted from elsewhere is worthless), which pages echo
back in a form field or the `X-CSRF-Token` header. Requests authenticated by a bearer token carry no
ambient credentials and need no CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from speakr.errors import PermissionDeniedError

SESSION_COOKIE = "speakr_session"
CSRF_COOKIE = "speakr_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
# The API explorer at /docs runs Swagger UI's inline start-up script.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
)


def is_https(headers: dict[str, str], scheme: str) -> bool:
    """HTTPS directly, or behind a reverse proxy that says so in X-Forwarded-Proto."""
    forwarded = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return scheme == "https" or forwarded == "https"


def request_is_https(request: Request) -> bool:
    return is_https(dict(request.headers), request.url.scheme)


def set_session_cookie(response: Response, request: Request, secret: str, days: float) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(days * 86400),
        httponly=True,
        samesite="lax",
        secure=request_is_https(request),
        path="/",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=request_is_https(request), path="/"
    )


def csrf_token(request: Request) -> str:
    return str(request.scope["state"]["csrf_token"])


def sign_nonce(secret: str, nonce: str) -> str:
    digest = hmac.new(secret.encode(), nonce.encode(), hashlib.sha256).hexdigest()
    return f"{nonce}.{digest}"


def is_signed(secret: str, token: str) -> bool:
    nonce, _, _ = token.partition(".")
    return bool(nonce) and hmac.compare_digest(sign_nonce(secret, nonce), token)


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a state-changing browser request without the page's CSRF token."""
    expected = request.cookies.get(CSRF_COOKIE, "")
    secret: str = request.app.state.secret_key
    if (
        not expected
        or not submitted
        or not is_signed(secret, expected)
        or not hmac.compare_digest(expected, submitted)
    ):
        raise PermissionDeniedError(
            "The form has expired or did not come from this site; reload the page and try again."
        )
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if origin.split("://", 1)[-1] != host:
            raise PermissionDeniedError("Cross-site requests are not allowed.")


class SecurityMiddleware:
    """Gives every browser a CSRF cookie and every response the security headers."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        self.app = app
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        cookies = SimpleCookie()
        cookies.load(headers.get("cookie", ""))
        existing = cookies.get(CSRF_COOKIE)
        token = existing.value if existing and is_signed(self.secret, existing.value) else None
        scope.setdefault("state", {})["csrf_token"] = token or sign_nonce(
            self.secret, secrets.token_urlsafe(24)
        )
        secure = is_https(headers, scope.get("scheme", "http"))
        is_docs = scope["path"] in {"/docs", "/docs/oauth2-redirect"}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra: list[tuple[bytes, bytes]] = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (
                        b"content-security-policy",
                        (
                            DOCS_CONTENT_SECURITY_POLICY if is_docs else CONTENT_SECURITY_POLICY
                        ).encode(),
                    ),
                ]
                if token is None:
                    extra.append(
                        (b"set-cookie", _csrf_cookie(scope["state"]["csrf_token"], secure))
                    )
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _csrf_cookie(value: str, secure: bool) -> bytes:  # noqa: FBT001
    parts = [f"{CSRF_COOKIE}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts).encode()
