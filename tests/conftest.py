"""Shared fixtures: real databases (SQLite always, PostgreSQL when SPEAKR_TEST_DATABASE_URL is
set), settings in a temporary data folder, a real app, and spoken test audio."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from speakr.app import create_app, prepare_storage
from speakr.db.session import normalize_url
from speakr.runtime import Runtime
from speakr.settings import Settings
from tests.helpers.audio import LONG_SPEECH_TEXT, SPEECH_TEXT, encode, speak

POSTGRES_URL = os.environ.get("SPEAKR_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
ADMIN = {"username": "admin", "password": "admin-password-1", "email": "admin@example.com"}


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings must come from the test, not from the developer's shell or .env file."""
    for name in list(os.environ):
        if name in Settings.model_fields and name != "LOG_LEVEL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'instance' / 'transcriptions.db'}"
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


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_FOLDER": tmp_path / "uploads",
            "INSTANCE_FOLDER": tmp_path / "instance",
            "ADMIN_USERNAME": ADMIN["username"],
            "ADMIN_PASSWORD": ADMIN["password"],
            "ADMIN_EMAIL": ADMIN["email"],
            "SECRET_KEY": "test-secret-key",
            "JOB_LEASE_SECONDS": 3,
        }
        return Settings(_env_file=None, **{**values, **overrides})  # type: ignore[call-arg]

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = Runtime.build(settings)
    prepare_storage(runtime)
    yield runtime
    runtime.close()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The real app in-process, without a worker: requests only, nothing transcribed."""
    with TestClient(create_app(settings, run_worker=False)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def speech_wav(speech_dir: Path) -> Path:
    return speak(SPEECH_TEXT, speech_dir / "planning meeting.wav")


@pytest.fixture(scope="session")
def speech_mp3(speech_dir: Path, speech_wav: Path) -> Path:
    return encode(
        speech_wav,
        speech_dir / "planning meeting.mp3",
        container="mp3",
        codec="libmp3lame",
        bit_rate=32000,
    )


@pytest.fixture(scope="session")
def long_speech_mp3(speech_dir: Path) -> Path:
    """About two and a half minutes of speech: long enough to interrupt mid-transcription."""
    wav = speak(LONG_SPEECH_TEXT, speech_dir / "long.wav")
    return encode(
        wav, speech_dir / "long meeting.mp3", container="mp3", codec="libmp3lame", bit_rate=32000
    )
