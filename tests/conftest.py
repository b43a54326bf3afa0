"""Shared fixtures: real databases (SQLite always, PostgreSQL when SPEAKR_TEST_DATABASE_URL is
set), settings in a temporary data folder, a real app, and spoken test audio."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from speakr.app import create_app, prepare_storage
from speakr.runtime import Runtime
from speakr.settings import Settings
from tests.helpers.audio import LONG_SPEECH_TEXT, SPEECH_TEXT, encode, speak
from tests.helpers.databases import BACKENDS, build_settings, fresh_database


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings must come from the test, not from the developer's shell or .env file."""
    for name in list(os.environ):
        if name in Settings.model_fields and name != "LOG_LEVEL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        return build_settings(database_url, tmp_path, **overrides)

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
