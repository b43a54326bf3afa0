"""Request dependencies: the runtime, a database session, and who is asking."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from speakr.db import Recording, User
from speakr.errors import AuthenticationError
from speakr.runtime import Runtime
from speakr.services.recordings import get_owned_recording
from speakr.services.tokens import user_for_api_token, user_for_session
from speakr.web.security import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, check_csrf


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_db(runtime: RuntimeDep) -> Iterator[Session]:
    session = runtime.sessions()
    try:
        yield session
    finally:
        session.close()


DbDep = Annotated[Session, Depends(get_db)]


@dataclass(frozen=True)
class Principal:
    user: User
    via: Literal["session", "token"]


def get_principal(request: Request, db: DbDep) -> Principal | None:
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        found = user_for_api_token(db, authorization[7:].strip())
        if found is None:
            raise AuthenticationError("The API token is invalid or has been revoked.")
        db.commit()  # last_used_at
        return Principal(found[0], "token")
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        user = user_for_session(db, secret)
        if user is not None:
            return Principal(user, "session")
    return None


OptionalPrincipal = Annotated[Principal | None, Depends(get_principal)]


def require_user(request: Request, principal: OptionalPrincipal) -> User:
    """The signed-in user; browser requests that change state must carry the CSRF token."""
    if principal is None:
        raise AuthenticationError("Log in, or send an API token as 'Authorization: Bearer …'.")
    if principal.via == "session" and request.method not in SAFE_METHODS:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return principal.user


CurrentUser = Annotated[User, Depends(require_user)]


def owned_recording(
    db: DbDep, user: CurrentUser, recording_id: Annotated[int, Path(ge=1)]
) -> Recording:
    return get_owned_recording(db, user, recording_id)


OwnedRecording = Annotated[Recording, Depends(owned_recording)]
