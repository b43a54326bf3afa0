"""The `speakr` command run for real, as a subprocess: transcribe, users, db."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from speakr.db import build_engine, build_session_factory
from speakr.errors import AuthenticationError
from speakr.services.users import authenticate
from speakr.settings import Settings
from tests.helpers.audio import SPEECH_TEXT, word_error_rate

SRT_CUE = re.compile(
    r"(?P<number>\d+)\n"
    r"(?P<start>\d{2}:\d{2}:\d{2},\d{3}) --> (?P<end>\d{2}:\d{2}:\d{2},\d{3})\n"
    r"(?P<text>.+)"
)


def speakr(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m speakr ARGS` with only the Speakr settings given here.

    COLUMNS and LINES are dropped so output is laid out as in a pipe or a container log,
    whatever the developer's terminal.
    """
    dropped = {*Settings.model_fields, "COLUMNS", "LINES"}
    base = {name: value for name, value in os.environ.items() if name not in dropped}
    return subprocess.run(
        [sys.executable, "-m", "speakr", *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def users_create(
    cwd: Path, env: dict[str, str], username: str, password: str, *options: str
) -> subprocess.CompletedProcess[str]:
    email = f"{username}@example.com"
    return speakr(
        cwd, "users", "create", username, "--email", email, "--password", password, *options, **env
    )


def stderr_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


@pytest.fixture
def db_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    # The folder exists, as in the container; a fresh install has its own test below.
    (tmp_path / "instance").mkdir()
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_FOLDER": str(tmp_path / "instance"),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
    }


@pytest.fixture
def bob(tmp_path: Path, db_env: dict[str, str]) -> dict[str, str]:
    result = users_create(tmp_path, db_env, "bob", "longpassword1")
    assert result.returncode == 0, result.stderr
    return db_env


# --- transcribe ---------------------------------------------------------------------------


@pytest.mark.slow
def test_transcribe_prints_the_transcript_to_stdout(speech_mp3: Path, tmp_path: Path) -> None:
    result = speakr(tmp_path, "transcribe", str(speech_mp3))

    assert result.returncode == 0, result.stderr
    assert word_error_rate(SPEECH_TEXT, result.stdout) < 0.15


@pytest.mark.slow
def test_transcribe_as_srt_prints_numbered_cues(speech_mp3: Path, tmp_path: Path) -> None:
    result = speakr(tmp_path, "transcribe", str(speech_mp3), "--format", "srt")

    assert result.returncode == 0, result.stderr
    blocks = result.stdout.strip("\n").split("\n\n")
    cues = [SRT_CUE.fullmatch(block) for block in blocks]
    assert all(cues), result.stdout
    assert [int(cue["number"]) for cue in cues if cue] == list(range(1, len(blocks) + 1))
    assert blocks[0].startswith("1\n00:00:00,000 --> ")
    assert all(cue["start"] < cue["end"] for cue in cues if cue)
    spoken = " ".join(cue["text"] for cue in cues if cue)
    assert word_error_rate(SPEECH_TEXT, spoken) < 0.15


@pytest.mark.slow
def test_transcribe_as_vtt_starts_with_webvtt(speech_mp3: Path, tmp_path: Path) -> None:
    result = speakr(tmp_path, "transcribe", str(speech_mp3), "--format", "vtt")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("WEBVTT\n\n")
    assert "00:00:00.000 --> " in result.stdout


@pytest.mark.slow
def test_transcribe_as_json_gives_timed_segments(speech_mp3: Path, tmp_path: Path) -> None:
    result = speakr(tmp_path, "transcribe", str(speech_mp3), "--format", "json")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["title"] == speech_mp3.stem
    assert data["language"] == "en"
    assert data["segments"]
    assert all(s["start"] < s["end"] for s in data["segments"])
    assert word_error_rate(SPEECH_TEXT, data["text"]) < 0.15
    assert all("words" not in s for s in data["segments"])


@pytest.mark.slow
def test_transcribe_with_words_gives_word_timings_inside_segments(
    speech_mp3: Path, tmp_path: Path
) -> None:
    result = speakr(tmp_path, "transcribe", str(speech_mp3), "--format", "json", "--words")

    assert result.returncode == 0, result.stderr
    segments = json.loads(result.stdout)["segments"]
    words = [w for s in segments for w in s["words"]]
    assert len(words) >= len(SPEECH_TEXT.split()) * 0.8
    for segment in segments:
        for word in segment["words"]:
            assert segment["start"] - 0.05 <= word["start"] <= word["end"] <= segment["end"] + 0.05


def test_transcribe_refuses_a_text_file_with_one_line(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("These are my meeting notes, not a recording.\n" * 10)

    result = speakr(tmp_path, "transcribe", str(notes))

    assert result.returncode != 0
    assert result.stdout == ""
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "audio" in lines[0]


# --- users --------------------------------------------------------------------------------


def test_users_create_then_list_shows_the_user(tmp_path: Path, bob: dict[str, str]) -> None:
    result = speakr(tmp_path, "users", "list", **bob)

    assert result.returncode == 0, result.stderr
    assert re.search(r"\bbob\b", result.stdout)
    assert "bob@example.com" in result.stdout


def test_users_create_admin_is_listed_as_admin(tmp_path: Path, db_env: dict[str, str]) -> None:
    created = users_create(tmp_path, db_env, "alice", "longpassword1", "--admin")
    listed = speakr(tmp_path, "users", "list", **db_env)

    assert created.returncode == 0, created.stderr
    alice_row = next(line for line in listed.stdout.splitlines() if "alice" in line)
    assert "yes" in alice_row


def test_users_create_refuses_a_duplicate(tmp_path: Path, bob: dict[str, str]) -> None:
    result = users_create(tmp_path, bob, "bob", "anotherpassword1")

    assert result.returncode != 0
    assert "already registered" in result.stderr


def test_users_create_refuses_a_short_password(tmp_path: Path, db_env: dict[str, str]) -> None:
    result = users_create(tmp_path, db_env, "carol", "short")
    listed = speakr(tmp_path, "users", "list", **db_env)

    assert result.returncode != 0
    assert "at least 8 characters" in result.stderr
    assert "carol" not in listed.stdout


def test_users_set_password_changes_the_password(
    tmp_path: Path, bob: dict[str, str], database_url: str
) -> None:
    result = speakr(tmp_path, "users", "set-password", "bob", "--password", "newpassword22", **bob)

    assert result.returncode == 0, result.stderr
    settings = Settings(_env_file=None, SQLALCHEMY_DATABASE_URI=database_url)  # type: ignore[call-arg]
    engine = build_engine(database_url)
    try:
        with build_session_factory(engine)() as db:
            user = authenticate(db, settings, "bob", "newpassword22", "127.0.0.1")
            assert user.username == "bob"
            with pytest.raises(AuthenticationError):
                authenticate(db, settings, "bob", "longpassword1", "127.0.0.1")
    finally:
        engine.dispose()


def test_users_set_password_for_an_unknown_user_fails(
    tmp_path: Path, db_env: dict[str, str]
) -> None:
    result = speakr(
        tmp_path, "users", "set-password", "nobody", "--password", "newpassword22", **db_env
    )

    assert result.returncode != 0
    assert "nobody" in result.stderr


# --- db -----------------------------------------------------------------------------------


def test_db_upgrade_creates_the_tables_and_is_idempotent(
    tmp_path: Path, db_env: dict[str, str], database_url: str
) -> None:
    first = speakr(tmp_path, "db", "upgrade", **db_env)
    second = speakr(tmp_path, "db", "upgrade", **db_env)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    engine = build_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert {"users", "recordings", "transcript_segments", "job_steps"} <= tables
    assert len(versions) == 1


def test_db_upgrade_on_a_fresh_install_creates_the_default_database(tmp_path: Path) -> None:
    result = speakr(tmp_path, "db", "upgrade")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "instance" / "transcriptions.db").is_file()


def test_bad_setting_stops_db_upgrade_with_one_line(tmp_path: Path, db_env: dict[str, str]) -> None:
    result = speakr(tmp_path, "db", "upgrade", **db_env, CHUNK_LIMIT="abc")

    assert result.returncode == 2
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert "CHUNK_LIMIT" in lines[0]
    assert not (tmp_path / "instance" / "transcriptions.db").exists()


def test_bad_setting_in_dotenv_stops_the_command_too(
    tmp_path: Path, db_env: dict[str, str]
) -> None:
    (tmp_path / ".env").write_text("ENABLE_CHUNKING=maybe\n")

    result = speakr(tmp_path, "db", "upgrade", **db_env)

    assert result.returncode == 2
    assert "ENABLE_CHUNKING" in result.stderr
