"""Every environment variable of the deployment guide, plus Speakr's own, in one class.

`get_settings()` builds the settings once per process; tests build their own `Settings(...)`.
Defaults outside Docker live under `./data/` (the image sets `/data/...` explicitly).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from speakr.errors import ConfigurationError

DATA_DIR = Path("data")


class AutoProcessMode(StrEnum):
    ADMIN_ONLY = "admin_only"
    USER_DIRECTORIES = "user_directories"
    SINGLE_USER = "single_user"


@dataclass(frozen=True)
class ChunkLimit:
    """A chunk bound: by size (`20MB`) or by duration (`1200s`, `20m`)."""

    kind: Literal["size", "duration"]
    value: float  # bytes or seconds

    def __str__(self) -> str:
        if self.kind == "size":
            return f"{self.value / 1_000_000:g}MB"
        return f"{self.value:g}s"


_CHUNK_LIMIT_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mb|m|s|min|h)?\s*$", re.IGNORECASE)
CHUNK_LIMIT_HELP = "a size like 20MB or a duration like 1200s or 20m"


def parse_chunk_limit(text: str) -> ChunkLimit:
    """Parse `20MB` (size), `1200s` / `20m` (duration); a bare number means megabytes."""
    match = _CHUNK_LIMIT_PATTERN.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"expected {CHUNK_LIMIT_HELP}")
    number = float(match.group(1))
    unit = (match.group(2) or "mb").lower()
    if unit == "mb":
        return ChunkLimit("size", number * 1_000_000)
    seconds_per_unit = {"s": 1, "m": 60, "min": 60, "h": 3600}[unit]
    return ChunkLimit("duration", number * seconds_per_unit)


class Settings(BaseSettings):
    """Speakr's configuration, read from the environment and a `.env` file."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=True,
        validate_default=True,
    )

    # --- Text generation (/chat/completions) ---
    TEXT_MODEL_BASE_URL: str = "https://openrouter.ai/api/v1"
    TEXT_MODEL_API_KEY: str | None = None
    TEXT_MODEL_NAME: str = "openai/gpt-4o-mini"

    # --- Transcription (/audio/transcriptions or /asr) ---
    TRANSCRIPTION_BASE_URL: str | None = None
    TRANSCRIPTION_API_KEY: str | None = None
    WHISPER_MODEL: str = "whisper-1"
    USE_ASR_ENDPOINT: bool = False
    ASR_BASE_URL: str | None = None
    ASR_MIN_SPEAKERS: int = Field(default=1, ge=1)
    ASR_MAX_SPEAKERS: int = Field(default=5, ge=1)

    # --- Application ---
    ALLOW_REGISTRATION: bool = False
    SUMMARY_MAX_TOKENS: int = Field(default=8000, gt=0)
    CHAT_MAX_TOKENS: int = Field(default=5000, gt=0)

    # --- Chunking (OpenAI-compatible engine only) ---
    ENABLE_CHUNKING: bool = True
    CHUNK_LIMIT: str | None = None
    CHUNK_SIZE_MB: float | None = Field(default=None, gt=0)
    CHUNK_OVERLAP_SECONDS: float = Field(default=3, ge=0)

    # --- Admin created on first run ---
    ADMIN_USERNAME: str | None = None
    ADMIN_EMAIL: str | None = None
    ADMIN_PASSWORD: str | None = None

    # --- Storage ---
    SQLALCHEMY_DATABASE_URI: str = ""
    UPLOAD_FOLDER: Path = DATA_DIR / "uploads"
    INSTANCE_FOLDER: Path | None = None
    MAX_UPLOAD_MB: int = Field(default=2048, gt=0)

    # --- Watched folder ---
    ENABLE_AUTO_PROCESSING: bool = False
    AUTO_PROCESS_WATCH_DIR: Path = DATA_DIR / "auto-process"
    AUTO_PROCESS_CHECK_INTERVAL: float = Field(default=30, gt=0)
    AUTO_PROCESS_MODE: AutoProcessMode = AutoProcessMode.ADMIN_ONLY
    AUTO_PROCESS_DEFAULT_USERNAME: str | None = None

    # --- Speakr's own ---
    SECRET_KEY: str | None = None
    REDIS_URL: str | None = None
    LOCAL_WHISPER_MODEL: str = "tiny.en"
    LOCAL_WHISPER_DEVICE: Literal["auto", "cpu", "cuda"] = "auto"
    LOCAL_WHISPER_COMPUTE_TYPE: str = "auto"
    LOCAL_WHISPER_THREADS: int = Field(default=0, ge=0)
    LOCAL_WHISPER_BEAM_SIZE: int = Field(default=5, ge=1)
    LOCAL_WHISPER_WINDOW_SECONDS: float = Field(default=300, ge=60)
    TRANSCRIPTION_CONCURRENCY: int = Field(default=4, ge=1)
    WORKER_THREADS: int = Field(default=2, ge=1)
    JOB_LEASE_SECONDS: float = Field(default=60, gt=0)
    LOGIN_MAX_FAILURES: int = Field(default=5, ge=1)
    LOGIN_LOCKOUT_MINUTES: float = Field(default=15, gt=0)
    SESSION_DAYS: float = Field(default=30, gt=0)
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _upper_log_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("CHUNK_LIMIT")
    @classmethod
    def _check_chunk_limit(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            parse_chunk_limit(value)
        return value

    @model_validator(mode="after")
    def _check_combinations(self) -> Settings:
        if self.ASR_MIN_SPEAKERS > self.ASR_MAX_SPEAKERS:
            raise ValueError("ASR_MIN_SPEAKERS must not exceed ASR_MAX_SPEAKERS")
        if self.USE_ASR_ENDPOINT and not self.ASR_BASE_URL:
            raise ValueError("ASR_BASE_URL is required when USE_ASR_ENDPOINT=true")
        if (
            self.AUTO_PROCESS_MODE is AutoProcessMode.SINGLE_USER
            and self.ENABLE_AUTO_PROCESSING
            and not self.AUTO_PROCESS_DEFAULT_USERNAME
        ):
            raise ValueError("AUTO_PROCESS_DEFAULT_USERNAME is required in single_user mode")
        return self

    @property
    def chunk_limit(self) -> ChunkLimit:
        """CHUNK_LIMIT wins over the legacy CHUNK_SIZE_MB; the default is 20MB."""
        if self.CHUNK_LIMIT and self.CHUNK_LIMIT.strip():
            return parse_chunk_limit(self.CHUNK_LIMIT)
        if self.CHUNK_SIZE_MB is not None:
            return ChunkLimit("size", self.CHUNK_SIZE_MB * 1_000_000)
        return ChunkLimit("size", 20_000_000)

    @property
    def instance_folder(self) -> Path:
        """INSTANCE_FOLDER; else the SQLite database's folder (as in the guide's Docker
        layout, `sqlite:////data/instance/transcriptions.db`); else `data/instance`."""
        if self.INSTANCE_FOLDER is not None:
            return self.INSTANCE_FOLDER
        if self.SQLALCHEMY_DATABASE_URI:
            url = make_url(self.SQLALCHEMY_DATABASE_URI)
            if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
                return Path(str(url.database)).parent
        return DATA_DIR / "instance"

    @property
    def database_url(self) -> str:
        if self.SQLALCHEMY_DATABASE_URI:
            return self.SQLALCHEMY_DATABASE_URI
        return f"sqlite:///{(self.instance_folder / 'transcriptions.db').resolve()}"

    @property
    def max_upload_bytes(self) -> int:
        return self.MAX_UPLOAD_MB * 1024 * 1024

    @property
    def uses_remote_transcription(self) -> bool:
        return self.USE_ASR_ENDPOINT or bool(self.TRANSCRIPTION_BASE_URL)

    def secret_key(self) -> str:
        """SECRET_KEY, or a random key generated once into the instance folder."""
        if self.SECRET_KEY:
            return self.SECRET_KEY
        key_file = self.instance_folder / "secret_key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            candidate = key_file.with_name(f"secret_key.{secrets.token_hex(4)}.tmp")
            descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            # Another process may have won the race; link() refuses to overwrite its key.
            with contextlib.suppress(FileExistsError):
                key_file.hardlink_to(candidate)
            candidate.unlink(missing_ok=True)
        return key_file.read_text().strip()


_ACCEPTS = {
    "bool_parsing": "true or false",
    "int_parsing": "a whole number",
    "float_parsing": "a number",
}


def describe_validation_error(error: ValidationError) -> str:
    """One line naming the first bad variable and what it accepts."""
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    if not first["loc"]:  # a rule across variables: its message names them
        return f"Invalid settings: {message}"
    name = ".".join(str(part) for part in first["loc"])
    value = first.get("input")
    shown = f"={value!r}" if isinstance(value, str | int | float) else ""
    accepts = _ACCEPTS.get(first["type"])
    if accepts:
        message = f"{message}; it accepts {accepts}"
    return f"Invalid setting {name}{shown}: {message}"


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning a validation error into a one-line ConfigurationError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigurationError(describe_validation_error(exc)) from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
