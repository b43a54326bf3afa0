"""Settings: every variable of the deployment guide plus Speakr's own, read from the
environment and `.env`, with defaults, CHUNK_LIMIT parsing and one-line errors."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from speakr.errors import ConfigurationError
from speakr.settings import AutoProcessMode, ChunkLimit, Settings, load_settings

# Variable -> the value it becomes; the environment holds its text, str(value).
AS_WRITTEN: dict[str, Any] = {
    "TEXT_MODEL_BASE_URL": "http://localhost:11434/v1",
    "TEXT_MODEL_API_KEY": "sk-or-v1-your_key_here",
    "TEXT_MODEL_NAME": "qwen/qwen3-32b",
    "TRANSCRIPTION_BASE_URL": "http://localhost:8000/v1",
    "TRANSCRIPTION_API_KEY": "sk-proj-key",
    "WHISPER_MODEL": "whisper-large-v3",
    "ASR_BASE_URL": "http://whisper-asr:9000",
    "ASR_MIN_SPEAKERS": 2,
    "ASR_MAX_SPEAKERS": 10,
    "SUMMARY_MAX_TOKENS": 12000,
    "CHAT_MAX_TOKENS": 4000,
    "CHUNK_LIMIT": "25MB",
    "CHUNK_SIZE_MB": 15,
    "CHUNK_OVERLAP_SECONDS": 5,
    "ADMIN_USERNAME": "root",
    "ADMIN_EMAIL": "root@example.com",
    "ADMIN_PASSWORD": "your_secure_password_here",
    "SQLALCHEMY_DATABASE_URI": "sqlite:////data/instance/transcriptions.db",
    "UPLOAD_FOLDER": Path("/data/uploads"),
    "AUTO_PROCESS_WATCH_DIR": Path("/data/auto-process"),
    "AUTO_PROCESS_CHECK_INTERVAL": 60,
    "AUTO_PROCESS_DEFAULT_USERNAME": "john_doe",
    "SECRET_KEY": "a-long-random-secret",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "LOCAL_WHISPER_MODEL": "/models/base.en",
    "MAX_UPLOAD_MB": 512,
    "TRANSCRIPTION_CONCURRENCY": 8,
}
# (variable, its text, other variables it needs, the value it becomes)
CONVERTED: list[tuple[str, str, dict[str, str], Any]] = [
    ("USE_ASR_ENDPOINT", "true", {"ASR_BASE_URL": "http://whisper-asr:9000"}, True),
    ("ALLOW_REGISTRATION", "true", {}, True),
    ("ENABLE_CHUNKING", "false", {}, False),
    ("ENABLE_AUTO_PROCESSING", "true", {}, True),
    ("AUTO_PROCESS_MODE", "admin_only", {}, AutoProcessMode.ADMIN_ONLY),
    ("AUTO_PROCESS_MODE", "user_directories", {}, AutoProcessMode.USER_DIRECTORIES),
    (
        "AUTO_PROCESS_MODE",
        "single_user",
        {"ENABLE_AUTO_PROCESSING": "true", "AUTO_PROCESS_DEFAULT_USERNAME": "john_doe"},
        AutoProcessMode.SINGLE_USER,
    ),
    ("LOG_LEVEL", "debug", {}, "DEBUG"),
    ("LOG_LEVEL", "WARNING", {}, "WARNING"),
]
ENV_CASES = [
    pytest.param(name, str(value), {}, value, id=name) for name, value in AS_WRITTEN.items()
] + [
    pytest.param(name, text, extra, value, id=f"{name}={text}")
    for name, text, extra, value in CONVERTED
]


@pytest.mark.parametrize(("name", "text", "extra", "expected"), ENV_CASES)
def test_each_variable_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, name: str, text: str, extra: dict[str, str], expected: Any
) -> None:
    monkeypatch.setenv(name, text)
    for other, value in extra.items():
        monkeypatch.setenv(other, value)

    assert getattr(load_settings(), name) == expected


def test_every_variable_of_the_guide_and_ours_is_a_setting() -> None:
    named = set(AS_WRITTEN) | {row[0] for row in CONVERTED}

    assert named <= set(Settings.model_fields)


def test_database_uri_from_the_environment_is_used_as_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SQLALCHEMY_DATABASE_URI", "postgresql://speakr@db/speakr")

    assert load_settings().database_url == "postgresql://speakr@db/speakr"


def test_defaults_match_the_guide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOG_LEVEL", raising=False)

    settings = Settings()

    assert settings.USE_ASR_ENDPOINT is False
    assert settings.ASR_MIN_SPEAKERS == 1
    assert settings.ASR_MAX_SPEAKERS == 5
    assert settings.ALLOW_REGISTRATION is False
    assert settings.ENABLE_CHUNKING is True
    assert settings.chunk_limit == ChunkLimit("size", 20_000_000)
    assert settings.CHUNK_OVERLAP_SECONDS == 3
    assert settings.ENABLE_AUTO_PROCESSING is False
    assert settings.AUTO_PROCESS_CHECK_INTERVAL == 30
    assert settings.AUTO_PROCESS_MODE is AutoProcessMode.ADMIN_ONLY
    assert settings.MAX_UPLOAD_MB == 2048
    assert settings.max_upload_bytes == 2048 * 1024 * 1024
    assert settings.TRANSCRIPTION_CONCURRENCY == 4
    assert settings.LOCAL_WHISPER_MODEL == "tiny.en"
    assert settings.LOG_LEVEL == "INFO"
    assert settings.uses_remote_transcription is False


def test_defaults_outside_docker_live_under_data_in_the_working_directory(
    tmp_path: Path,
) -> None:
    settings = Settings()
    here = tmp_path.resolve()

    assert settings.database_url == f"sqlite:///{here / 'data' / 'instance' / 'transcriptions.db'}"
    assert settings.UPLOAD_FOLDER.resolve() == here / "data" / "uploads"
    assert settings.instance_folder.resolve() == here / "data" / "instance"


def test_the_instance_folder_follows_the_sqlite_database_of_the_docker_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path}/srv/instance/t.db")
    settings = Settings()

    assert settings.instance_folder == tmp_path / "srv" / "instance"
    settings.secret_key()
    assert (tmp_path / "srv" / "instance" / "secret_key").is_file()
    assert not (tmp_path / "data").exists()


def test_an_explicit_instance_folder_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path}/db/t.db")
    monkeypatch.setenv("INSTANCE_FOLDER", str(tmp_path / "state"))

    assert Settings().instance_folder == tmp_path / "state"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "TEXT_MODEL_NAME=gpt-4o-mini\n"
        "ALLOW_REGISTRATION=true\n"
        "ASR_MAX_SPEAKERS=7\n"
        "UPLOAD_FOLDER=/srv/uploads\n"
    )

    settings = Settings()

    assert settings.TEXT_MODEL_NAME == "gpt-4o-mini"
    assert settings.ALLOW_REGISTRATION is True
    assert settings.ASR_MAX_SPEAKERS == 7
    assert settings.UPLOAD_FOLDER.as_posix() == "/srv/uploads"


def test_dotenv_lines_copied_from_the_guide_keep_their_values_not_their_comments(
    tmp_path: Path,
) -> None:
    (tmp_path / ".env").write_text(
        "# --- Large File Chunking (for endpoints with file size limits) ---\n"
        "ENABLE_CHUNKING=true\n"
        "CHUNK_LIMIT=20MB           # Size-based chunking (legacy CHUNK_SIZE_MB also works)\n"
        "CHUNK_OVERLAP_SECONDS=3\n"
        "USE_ASR_ENDPOINT=true\n"
        "ASR_BASE_URL=http://192.168.1.100:9000  # Replace with actual IP of the ASR container\n"
        "# ASR_MIN_SPEAKERS=2  # Override default of 1\n"
    )

    settings = load_settings()

    assert settings.chunk_limit == ChunkLimit("size", 20_000_000)
    assert settings.ASR_BASE_URL == "http://192.168.1.100:9000"
    assert settings.ASR_MIN_SPEAKERS == 1


def test_environment_beats_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CHUNK_LIMIT=10MB\nWHISPER_MODEL=from-dotenv\n")
    monkeypatch.setenv("CHUNK_LIMIT", "30MB")

    settings = Settings()

    assert settings.chunk_limit == ChunkLimit("size", 30_000_000)
    assert settings.WHISPER_MODEL == "from-dotenv"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20MB", ChunkLimit("size", 20_000_000)),
        ("15mb", ChunkLimit("size", 15_000_000)),
        ("1200s", ChunkLimit("duration", 1200)),
        ("20m", ChunkLimit("duration", 1200)),
    ],
)
def test_chunk_limit_accepts_sizes_and_durations(
    monkeypatch: pytest.MonkeyPatch, text: str, expected: ChunkLimit
) -> None:
    monkeypatch.setenv("CHUNK_LIMIT", text)

    assert load_settings().chunk_limit == expected


def test_chunk_limit_accepts_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHUNK_LIMIT", "20m")

    limit = load_settings().chunk_limit

    assert (limit.kind, limit.value) == ("duration", 1200)


def test_legacy_chunk_size_mb_sets_the_size_when_chunk_limit_is_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHUNK_SIZE_MB", "15")

    assert load_settings().chunk_limit == ChunkLimit("size", 15_000_000)


def test_blank_chunk_limit_in_dotenv_falls_back_to_chunk_size_mb(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CHUNK_LIMIT=\nCHUNK_SIZE_MB=15\n")

    assert load_settings().chunk_limit == ChunkLimit("size", 15_000_000)


def test_chunk_limit_wins_over_chunk_size_mb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHUNK_SIZE_MB", "15")
    monkeypatch.setenv("CHUNK_LIMIT", "1200s")

    assert load_settings().chunk_limit == ChunkLimit("duration", 1200)


def test_chunk_limit_defaults_to_20mb() -> None:
    limit = load_settings().chunk_limit

    assert limit == ChunkLimit("size", 20_000_000)
    assert str(limit) == "20MB"


BAD_VALUES = [
    pytest.param({"CHUNK_LIMIT": "abc"}, "CHUNK_LIMIT", id="CHUNK_LIMIT=abc"),
    pytest.param({"CHUNK_LIMIT": "0MB"}, "CHUNK_LIMIT", id="CHUNK_LIMIT=0MB"),
    pytest.param({"CHUNK_SIZE_MB": "big"}, "CHUNK_SIZE_MB", id="CHUNK_SIZE_MB=big"),
    pytest.param({"ENABLE_CHUNKING": "maybe"}, "ENABLE_CHUNKING", id="ENABLE_CHUNKING=maybe"),
    pytest.param({"ASR_MAX_SPEAKERS": "zero"}, "ASR_MAX_SPEAKERS", id="ASR_MAX_SPEAKERS=zero"),
    pytest.param({"ASR_MIN_SPEAKERS": "0"}, "ASR_MIN_SPEAKERS", id="ASR_MIN_SPEAKERS=0"),
    pytest.param(
        {"AUTO_PROCESS_MODE": "everyone"}, "AUTO_PROCESS_MODE", id="AUTO_PROCESS_MODE=everyone"
    ),
    pytest.param({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL", id="LOG_LEVEL=LOUD"),
    pytest.param({"MAX_UPLOAD_MB": "-1"}, "MAX_UPLOAD_MB", id="MAX_UPLOAD_MB=-1"),
    pytest.param(
        {"TRANSCRIPTION_CONCURRENCY": "0"},
        "TRANSCRIPTION_CONCURRENCY",
        id="TRANSCRIPTION_CONCURRENCY=0",
    ),
    pytest.param(
        {"CHUNK_OVERLAP_SECONDS": "-3"}, "CHUNK_OVERLAP_SECONDS", id="CHUNK_OVERLAP_SECONDS=-3"
    ),
    pytest.param(
        {"AUTO_PROCESS_CHECK_INTERVAL": "0"},
        "AUTO_PROCESS_CHECK_INTERVAL",
        id="AUTO_PROCESS_CHECK_INTERVAL=0",
    ),
    pytest.param({"USE_ASR_ENDPOINT": "true"}, "ASR_BASE_URL", id="asr-without-base-url"),
    pytest.param(
        {"ASR_MIN_SPEAKERS": "6", "ASR_MAX_SPEAKERS": "3"},
        "ASR_MIN_SPEAKERS",
        id="min-speakers-above-max",
    ),
    pytest.param(
        {"ENABLE_AUTO_PROCESSING": "true", "AUTO_PROCESS_MODE": "single_user"},
        "AUTO_PROCESS_DEFAULT_USERNAME",
        id="single-user-without-username",
    ),
]


@pytest.mark.parametrize(("env", "variable"), BAD_VALUES)
def test_bad_value_is_rejected_with_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], variable: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ConfigurationError) as caught:
        load_settings()

    assert variable in caught.value.message
    assert "\n" not in caught.value.message
    assert caught.value.message == str(caught.value)


def test_bad_value_in_dotenv_is_rejected_like_one_in_the_environment(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CHUNK_LIMIT=abc\n")

    with pytest.raises(ConfigurationError, match="CHUNK_LIMIT"):
        load_settings()


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path: Path) -> None:
    settings = Settings()

    key = settings.secret_key()

    key_file = tmp_path / "data" / "instance" / "secret_key"
    assert key_file.read_text().strip() == key
    assert len(key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert settings.secret_key() == key
    assert Settings().secret_key() == key
    assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]


def test_generated_secret_key_differs_between_instance_folders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = Settings().secret_key()
    monkeypatch.setenv("INSTANCE_FOLDER", str(tmp_path / "other-instance"))

    assert Settings().secret_key() != first


def test_secret_key_from_the_environment_is_used_and_nothing_is_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SECRET_KEY", "configured-secret-key")

    assert Settings().secret_key() == "configured-secret-key"
    assert not (tmp_path / "data").exists()
