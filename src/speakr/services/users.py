"""Users: creation, the admin from settings, password checks with log-in throttling."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from speakr.db import LoginAttempt, User, utcnow
from speakr.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    TooManyAttemptsError,
)
from speakr.settings import Settings

logger = logging.getLogger(__name__)

_hasher = PasswordHasher()
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
# Verifying against a dummy hash when the user does not exist keeps timing uniform.
_DUMMY_HASH = _hasher.hash("speakr-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(f"The password must be at least {MIN_PASSWORD_LENGTH} characters.")


def create_user(
    db: Session, username: str, email: str, password: str, *, is_admin: bool = False
) -> User:
    username, email = username.strip(), email.strip()
    if not USERNAME_PATTERN.match(username):
        raise InvalidInputError(
            "A username is 1 to 64 letters, digits, dots, dashes or underscores."
        )
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        raise InvalidInputError("Enter a valid email address.")
    check_new_password(password)
    taken = db.scalar(
        select(User.id).where(
            or_(
                func.lower(User.username) == username.lower(),
                func.lower(User.email) == email.lower(),
            )
        )
    )
    if taken is not None:
        raise ConflictError("That username or email is already registered.")
    user = User(
        username=username, email=email, password_hash=hash_password(password), is_admin=is_admin
    )
    db.add(user)
    db.flush()
    logger.info("Created user %s (ID: %d, admin: %s)", username, user.id, is_admin)
    return user


def set_password(user: User, password: str) -> None:
    check_new_password(password)
    user.password_hash = hash_password(password)


def find_user(db: Session, username: str) -> User | None:
    return db.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def ensure_admin(db: Session, settings: Settings) -> User | None:
    """Create the admin from ADMIN_* on first run; never touch an existing account.

    Without ADMIN_PASSWORD (or without any ADMIN_* on a database with no users) the admin gets
    a random password, logged once: a first start is usable and has no default password.
    """
    username = settings.ADMIN_USERNAME or "admin"
    if settings.ADMIN_USERNAME:
        existing = find_user(db, username)
        if existing is not None:
            return existing
    elif db.scalar(select(func.count()).select_from(User)):
        return None
    password = settings.ADMIN_PASSWORD or secrets.token_urlsafe(12)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigurationError(
            f"ADMIN_PASSWORD must be at least {MIN_PASSWORD_LENGTH} characters"
        )
    email = settings.ADMIN_EMAIL or f"{username}@localhost"
    try:
        user = create_user(db, username, email, password, is_admin=True)
    except InvalidInputError as exc:
        raise ConfigurationError(f"ADMIN_USERNAME/ADMIN_EMAIL: {exc.message}") from exc
    if not settings.ADMIN_PASSWORD:
        logger.warning(
            "Created admin user '%s' with password: %s "
            "(set ADMIN_PASSWORD in .env to choose your own)",
            username,
            password,
        )
    return user


def authenticate(
    db: Session, settings: Settings, username: str, password: str, client: str
) -> User:
    """Check a password; after too many failures for this name and address, refuse a while."""
    key = f"{username.strip().lower()}|{client}"
    window_start = utcnow() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    failures = db.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.key == key, LoginAttempt.attempted_at > window_start)
    )
    if (failures or 0) >= settings.LOGIN_MAX_FAILURES:
        raise TooManyAttemptsError(
            "Too many failed log-in attempts. Wait "
            f"{settings.LOGIN_LOCKOUT_MINUTES:g} minutes and try again."
        )
    user = find_user(db, username)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None:
        db.add(LoginAttempt(key=key))
        db.commit()
        logger.warning("Failed log-in for user %r from %s", username[:64], client)
        raise AuthenticationError("Incorrect username or password.")
    db.execute(delete(LoginAttempt).where(LoginAttempt.key == key))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user
