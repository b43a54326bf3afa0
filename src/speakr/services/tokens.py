"""Browser sessions and API tokens: random secrets given once, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from speakr.db import ApiToken, User, WebSession, utcnow
from speakr.errors import NotFoundError

API_TOKEN_PREFIX = "spk_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_session(db: Session, user: User, days: float) -> str:
    secret = secrets.token_urlsafe(32)
    db.add(
        WebSession(
            token_hash=_digest(secret),
            user_id=user.id,
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    return secret


def user_for_session(db: Session, secret: str) -> User | None:
    session = db.scalar(select(WebSession).where(WebSession.token_hash == _digest(secret)))
    if session is None or session.expires_at <= utcnow():
        return None
    return session.user


def end_session(db: Session, secret: str) -> None:
    session = db.scalar(select(WebSession).where(WebSession.token_hash == _digest(secret)))
    if session is not None:
        db.delete(session)


def create_api_token(db: Session, user: User, name: str) -> tuple[ApiToken, str]:
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name[:100] or "API token", token_hash=_digest(secret))
    db.add(token)
    db.flush()
    return token, secret


def user_for_api_token(db: Session, secret: str) -> tuple[User, ApiToken] | None:
    token = db.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    # Write at most once a minute: tokens are used on every request.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return token.user, token


def list_api_tokens(db: Session, user: User) -> list[ApiToken]:
    return list(
        db.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc())
        )
    )


def revoke_api_token(db: Session, user: User, token_id: int) -> None:
    token = db.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFoundError("No such API token.")
    token.revoked_at = utcnow()
