"""The pipeline runner against real databases and the real embedded engine: claims, leases,
the reaper, failures that keep good data, and deletion while a step runs."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from speakr.audio import probe
from speakr.db import JobStep, Recording, StepState, User, session_scope, utcnow
from speakr.pipeline import reap_stale_work, run_pipeline
from speakr.pipeline.runner import MAX_ATTEMPTS, WORKER_DIED_MESSAGE
from speakr.runtime import Runtime
from speakr.services.recordings import (
    NewRecording,
    create_recording_from_file,
    delete_recording,
    new_staging_path,
    request_reprocess,
)
from tests.helpers.audio import SPEECH_TEXT, encode, word_error_rate
from tests.helpers.databases import ADMIN


def add_recording(runtime: Runtime, source: Path) -> int:
    staged = new_staging_path(runtime)
    shutil.copyfile(source, staged)
    with runtime.sessions() as db:
        admin = db.scalars(select(User).where(User.username == ADMIN["username"])).one()
        return create_recording_from_file(
            runtime, db, admin, staged, NewRecording(original_filename=source.name)
        ).id


def load(runtime: Runtime, recording_id: int) -> Recording | None:
    with session_scope(runtime.sessions) as db:
        recording = db.get(Recording, recording_id)
        if recording is not None:
            _ = recording.segments, recording.steps
        return recording


def test_the_pipeline_transcribes_and_completes(runtime: Runtime, speech_mp3: Path) -> None:
    recording_id = add_recording(runtime, speech_mp3)
    run_pipeline(runtime, recording_id)
    recording = load(runtime, recording_id)
    assert recording is not None
    assert recording.status == "completed"
    assert recording.progress == 1.0
    assert word_error_rate(SPEECH_TEXT, recording.transcript_text or "") < 0.15
    assert [s.position for s in recording.segments] == list(range(len(recording.segments)))
    assert all(step.state == StepState.DONE for step in recording.steps)
    assert all(step.attempts == 1 for step in recording.steps)


def held_by_another_worker(
    runtime: Runtime, recording_id: int, worker_id: str, *, silent_for: float = 0, attempts: int = 1
) -> None:
    """The prepare step as another worker left it: running, last heard from `silent_for` ago."""
    with session_scope(runtime.sessions) as db:
        db.execute(
            update(JobStep)
            .where(JobStep.recording_id == recording_id, JobStep.name == "prepare")
            .values(
                state=StepState.RUNNING,
                worker_id=worker_id,
                heartbeat_at=utcnow() - timedelta(seconds=silent_for),
                attempts=attempts,
            )
        )


def test_a_step_held_by_a_live_worker_is_not_run_twice(runtime: Runtime, speech_mp3: Path) -> None:
    recording_id = add_recording(runtime, speech_mp3)
    held_by_another_worker(runtime, recording_id, "other:1:alive")
    run_pipeline(runtime, recording_id)
    recording = load(runtime, recording_id)
    assert recording is not None
    assert recording.status == "queued"
    assert recording.transcript_text is None
    assert {s.name: s.worker_id for s in recording.steps}["prepare"] == "other:1:alive"
    assert reap_stale_work(runtime) == []


def test_the_reaper_gives_back_the_step_of_a_dead_worker(
    runtime: Runtime, speech_mp3: Path
) -> None:
    recording_id = add_recording(runtime, speech_mp3)
    lease = runtime.settings.JOB_LEASE_SECONDS
    held_by_another_worker(runtime, recording_id, "dead:1:gone", silent_for=lease + 5)
    assert reap_stale_work(runtime) == [recording_id]
    recording = load(runtime, recording_id)
    assert recording is not None
    assert {s.name: s.state for s in recording.steps}["prepare"] == StepState.QUEUED
    run_pipeline(runtime, recording_id)
    finished = load(runtime, recording_id)
    assert finished is not None and finished.status == "completed"


def test_a_step_whose_worker_keeps_dying_fails_instead_of_looping(
    runtime: Runtime, speech_mp3: Path
) -> None:
    recording_id = add_recording(runtime, speech_mp3)
    lease = runtime.settings.JOB_LEASE_SECONDS
    held_by_another_worker(
        runtime, recording_id, "dead:3:gone", silent_for=lease + 5, attempts=MAX_ATTEMPTS
    )
    run_pipeline(runtime, recording_id)  # a new worker must not take it up again
    assert reap_stale_work(runtime) == []

    recording = load(runtime, recording_id)
    assert recording is not None
    assert recording.status == "failed"
    assert recording.error_step == "prepare"
    assert recording.error_message == WORKER_DIED_MESSAGE
    assert (runtime.upload_root / recording.original_path).is_file()


def test_a_failed_retranscription_keeps_the_previous_transcript(
    runtime: Runtime, speech_mp3: Path
) -> None:
    recording_id = add_recording(runtime, speech_mp3)
    run_pipeline(runtime, recording_id)
    first = load(runtime, recording_id)
    assert first is not None and first.status == "completed"

    # The stored audio is damaged on disk; the engine cannot read it any more.
    (runtime.upload_root / first.original_path).write_bytes(b"no longer audio " * 100)
    with runtime.sessions() as db:
        recording = db.get(Recording, recording_id)
        assert recording is not None
        request_reprocess(runtime, db, recording, "transcription")
    run_pipeline(runtime, recording_id)

    after = load(runtime, recording_id)
    assert after is not None
    assert after.status == "failed"
    assert after.error_step == "transcribe"
    assert after.error_message == (
        "The local Whisper engine could not read the audio: "
        "Invalid data found when processing input."
    )
    assert after.transcript_text == first.transcript_text
    assert [s.text for s in after.segments] == [s.text for s in first.segments]


def test_deleting_a_recording_stops_its_running_step(
    runtime: Runtime, long_speech_mp3: Path
) -> None:
    recording_id = add_recording(runtime, long_speech_mp3)
    worker = threading.Thread(target=run_pipeline, args=(runtime, recording_id))
    worker.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        recording = load(runtime, recording_id)
        assert recording is not None
        if recording.stage == "transcribing":
            break
        time.sleep(0.05)
    with runtime.sessions() as db:
        stored = db.get(Recording, recording_id)
        assert stored is not None
        folder = (runtime.upload_root / stored.original_path).parent
        delete_recording(runtime, db, stored)
    worker.join(30)
    assert not worker.is_alive()
    assert load(runtime, recording_id) is None
    assert not folder.exists()


def test_a_codec_browsers_cannot_play_gets_an_mp3_copy_and_the_original_is_kept(
    runtime: Runtime, speech_wav: Path, tmp_path: Path
) -> None:
    wma = encode(
        speech_wav, tmp_path / "dictation.wma", container="asf", codec="wmav2", bit_rate=32000
    )
    recording_id = add_recording(runtime, wma)
    run_pipeline(runtime, recording_id)

    recording = load(runtime, recording_id)
    assert recording is not None and recording.status == "completed"
    assert recording.playback_path is not None
    original = runtime.upload_root / recording.original_path
    assert original.read_bytes() == wma.read_bytes()
    info = probe(runtime.upload_root / recording.playback_path)
    assert (info.codec, info.channels) == ("mp3", 1)
    assert abs((info.duration or 0) - (recording.duration or 0)) < 0.3
    assert word_error_rate(SPEECH_TEXT, recording.transcript_text or "") < 0.15
    assert not list(runtime.upload_root.rglob("*.wav"))
