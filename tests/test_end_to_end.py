"""The real server end to end: upload spoken audio, transcribe it offline, read it back, and
find it again after a restart — and a job that survives its server being killed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.helpers.audio import LONG_SPEECH_TEXT, SPEECH_TEXT, word_error_rate
from tests.helpers.databases import ADMIN
from tests.helpers.server import LiveServer

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("SPEAKR_TEST_REDIS_URL", "")
QUEUES = ["sqlite", *(["redis"] if REDIS_URL else [])]


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "ADMIN_USERNAME": ADMIN["username"],
        "ADMIN_PASSWORD": ADMIN["password"],
        "ADMIN_EMAIL": ADMIN["email"],
        "JOB_LEASE_SECONDS": "3",
        "LOG_LEVEL": "INFO",
        **extra,
    }


def test_upload_transcribe_and_find_it_after_a_restart(
    tmp_path: Path, database_url: str, speech_mp3: Path
) -> None:
    server = LiveServer(tmp_path, server_env(database_url)).start()
    try:
        api = server.client().login(ADMIN["username"], ADMIN["password"])
        created = api.upload(speech_mp3)
        assert created.status_code == 201, created.text
        recording_id = created.json()["id"]
        assert created.json()["status"] == "queued"

        done = api.wait_for(recording_id)
        assert done["status"] == "completed", done["error"]
        assert done["progress"] == 1.0
        assert word_error_rate(SPEECH_TEXT, done["transcript"]["text"]) < 0.15
        segments = done["transcript"]["segments"]
        assert segments and all(s["start"] < s["end"] for s in segments)
        assert done["title"].startswith("planning meeting (")

        audio = api.http.get(f"/api/v1/recordings/{recording_id}/audio")
        assert audio.status_code == 200
        assert audio.content == speech_mp3.read_bytes()
        export = api.http.get(f"/api/v1/recordings/{recording_id}/export", params={"format": "txt"})
        assert "planning meeting" in export.text.lower()
    finally:
        server.stop()

    assert f"Created recording record with ID: {recording_id} for user: admin" in server.log()
    assert f"Processing completed for recording ID: {recording_id}" in server.log()
    # Data lives under ./data of the working directory by default.
    assert list((tmp_path / "data" / "uploads").rglob("original.mp3"))

    restarted = LiveServer(tmp_path, server_env(database_url)).start()
    try:
        api = restarted.client().login(ADMIN["username"], ADMIN["password"])
        again = api.recording(recording_id)
        assert again["status"] == "completed"
        assert again["transcript"]["text"] == done["transcript"]["text"]
    finally:
        restarted.stop()


@pytest.mark.parametrize("queue", QUEUES)
def test_a_job_survives_its_server_being_killed(
    tmp_path: Path, database_url: str, long_speech_mp3: Path, queue: str
) -> None:
    extra = {"LOCAL_WHISPER_THREADS": "1"}
    if queue == "redis":
        redis.Redis.from_url(REDIS_URL).flushdb()
        extra["REDIS_URL"] = REDIS_URL
    env = server_env(database_url, **extra)
    server = LiveServer(tmp_path, env).start()
    api = server.client().login(ADMIN["username"], ADMIN["password"])
    recording_id = api.upload(long_speech_mp3).json()["id"]

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = api.recording(recording_id)
        if state["stage"] == "transcribing" and state["progress"] > 0.1:
            break
        assert state["status"] not in {"completed", "failed"}, "finished before it could be killed"
        time.sleep(0.1)
    server.kill()
    interrupted_at = state["progress"]

    restarted = LiveServer(tmp_path, env).start()
    try:
        api = restarted.client().login(ADMIN["username"], ADMIN["password"])
        done = api.wait_for(recording_id, timeout=240)
        assert done["status"] == "completed", done["error"]
        assert word_error_rate(LONG_SPEECH_TEXT, done["transcript"]["text"]) < 0.15
    finally:
        restarted.stop()
    assert 0.1 < interrupted_at < 1.0
    assert f"Re-queued recording ID: {recording_id} (its worker stopped)" in restarted.log()


@pytest.mark.parametrize("queue", QUEUES)
def test_a_separate_worker_processes_what_a_web_only_server_accepts(
    tmp_path: Path, database_url: str, speech_mp3: Path, queue: str
) -> None:
    extra = {}
    if queue == "redis":
        redis.Redis.from_url(REDIS_URL).flushdb()
        extra["REDIS_URL"] = REDIS_URL
    env = server_env(database_url, **extra)
    web = LiveServer(tmp_path, env, args=("--no-worker",)).start()
    worker: subprocess.Popen[bytes] | None = None
    try:
        api = web.client().login(ADMIN["username"], ADMIN["password"])
        recording_id = api.upload(speech_mp3).json()["id"]
        time.sleep(1.5)
        assert api.recording(recording_id)["status"] == "queued"

        with (tmp_path / "worker.log").open("wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "speakr", "worker"],
                cwd=tmp_path,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        done = api.wait_for(recording_id, timeout=120)
        assert done["status"] == "completed", done["error"]
        assert word_error_rate(SPEECH_TEXT, done["transcript"]["text"]) < 0.15
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(15)
        web.stop()
    worker_log = (tmp_path / "worker.log").read_text()
    assert f"Processing completed for recording ID: {recording_id}" in worker_log
    assert "Processing completed" not in web.log()


def test_a_stopped_server_hands_its_running_job_back(
    tmp_path: Path, database_url: str, long_speech_mp3: Path
) -> None:
    env = server_env(database_url, LOCAL_WHISPER_THREADS="1", JOB_LEASE_SECONDS="600")
    server = LiveServer(tmp_path, env).start()
    api = server.client().login(ADMIN["username"], ADMIN["password"])
    recording_id = api.upload(long_speech_mp3).json()["id"]
    deadline = time.monotonic() + 120
    while api.recording(recording_id)["stage"] != "transcribing":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    server.stop()
    assert f"Handed back recording ID: {recording_id} for the next start" in server.log()

    # With a ten-minute lease, only the hand-back lets the restart finish the job quickly.
    restarted = LiveServer(tmp_path, env).start()
    try:
        api = restarted.client().login(ADMIN["username"], ADMIN["password"])
        done = api.wait_for(recording_id, timeout=120)
        assert done["status"] == "completed", done["error"]
    finally:
        restarted.stop()
