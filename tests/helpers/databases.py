"""Fresh real databases and settings that come from the test alone."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from speakr.db.session import normalize_url
from speakr.settings import Settings

POSTGRES_URL = os.environ.get("SPEAKR_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
ADMIN = {"username": "admin", "password": "admin-password-1", "email": "admin@example.com"}


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """A new empty database on `backend` (a file in `folder`, or a PostgreSQL database that
    is dropped afterwards); yields its URL."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'instance' / 'transcriptions.db'}"
        return
    server = make_url(normalize_url(POSTGRES_URL))
    name = f"speakr_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def build_settings(database_url: str, folder: Path, **overrides: Any) -> Settings:
    """Settings from the test alone: no variables from the shell, no .env file."""
    values: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "UPLOAD_FOLDER": folder / "uploads",
        "INSTANCE_FOLDER": folder / "instance",
        "ADMIN_USERNAME": ADMIN["username"],
        "ADMIN_PASSWORD": ADMIN["password"],
        "ADMIN_EMAIL": ADMIN["email"],
        "SECRET_KEY": "test-secret-key",
        "JOB_LEASE_SECONDS": 3,
    }
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name in Settings.model_fields and name != "LOG_LEVEL":
                patch.delenv(name)
        return Settings(_env_file=None, **{**values, **overrides})  # type: ignore[call-arg]
