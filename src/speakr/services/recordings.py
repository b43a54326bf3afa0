"""Recordings: create one from a file on disk (upload and watched folder share this), list,
read with ownership, edit, reprocess and delete."""

from __future__ import annotations

import logging
import os
import shutil
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from speakr.audio import probe
from speakr.db import (
    JobStep,
    Recording,
    RecordingStatus,
    StepState,
    Tag,
    TranscriptSegment,
    User,
    utcnow,
)
from speakr.errors import ConflictError, InvalidInputError, NotFoundError
from speakr.pipeline.steps import STEPS, STEPS_BY_NAME
from speakr.services.titles import default_title

if TYPE_CHECKING:
    from speakr.runtime import Runtime

logger = logging.getLogger(__name__)

MAX_FILENAME_LENGTH = 255
MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; larger ids cannot exist
MAX_PAGE = 1_000_000
STAGING_DIR = ".incoming"
REPROCESS_TARGETS = {"transcription": "transcribe"}


@dataclass(frozen=True)
class NewRecording:
    original_filename: str
    title: str | None = None
    language: str | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    source: str = "upload"


def check_filename(name: str) -> str:
    """Names are shown, never used as paths; still, refuse ones that are clearly hostile."""
    if not name or not name.strip():
        raise InvalidInputError("The file has no name.")
    if len(name) > MAX_FILENAME_LENGTH:
        raise InvalidInputError(
            f"The file name is {len(name)} characters long; the limit is {MAX_FILENAME_LENGTH}."
        )
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise InvalidInputError("The file name contains control characters (such as NUL).")
    if "/" in name or "\\" in name or name.strip() in {".", ".."}:
        raise InvalidInputError("The file name must not contain a path ('/', '\\' or '..').")
    return name.strip()


def check_language(language: str | None) -> str | None:
    if not language or not language.strip():
        return None
    code = language.strip().lower()
    if not (code.isascii() and code.replace("-", "").isalpha() and len(code) <= 16):
        raise InvalidInputError("The language must be a code such as 'en' or 'de'.")
    return code


def check_speaker_range(min_speakers: int | None, max_speakers: int | None) -> None:
    for value in (min_speakers, max_speakers):
        if value is not None and not 1 <= value <= 50:
            raise InvalidInputError("Speaker counts must be between 1 and 50.")
    if min_speakers and max_speakers and min_speakers > max_speakers:
        raise InvalidInputError("min_speakers must not exceed max_speakers.")


def new_staging_path(runtime: Runtime) -> Path:
    staging = runtime.upload_root / STAGING_DIR
    staging.mkdir(parents=True, exist_ok=True)
    return staging / f"{uuid.uuid4().hex}.part"


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def create_recording_from_file(
    runtime: Runtime, db: Session, user: User, staged: Path, new: NewRecording
) -> Recording:
    """Probe a staged (fsynced) file, move it into place, record it and enqueue it.

    On any error nothing is left behind: neither the staged file nor a row.
    """
    final: Path | None = None
    try:
        filename = check_filename(new.original_filename)
        language = check_language(new.language)
        check_speaker_range(new.min_speakers, new.max_speakers)
        info = probe(staged)
        directory = runtime.upload_root / str(user.id) / uuid.uuid4().hex
        directory.mkdir(parents=True)
        final = directory / f"original.{info.extension}"
        staged.replace(final)
        _fsync_directory(directory)
        recording = Recording(
            user_id=user.id,
            title=(new.title or "").strip()[:500]
            or default_title(filename, info.recorded_at or utcnow()),
            title_is_custom=bool(new.title and new.title.strip()),
            original_filename=filename,
            original_path=final.relative_to(runtime.upload_root).as_posix(),
            source=new.source,
            size_bytes=final.stat().st_size,
            container=info.container,
            audio_codec=info.codec,
            duration=info.duration,
            recorded_at=info.recorded_at,
            language=language,
            min_speakers=new.min_speakers,
            max_speakers=new.max_speakers,
            status=RecordingStatus.QUEUED,
            stage="Waiting for a worker",
            speakers={},
            steps=[JobStep(name=s.name, position=i) for i, s in enumerate(STEPS)],
        )
        recording.tags = _tags_for(db, user, new.tags)
        db.add(recording)
        db.commit()
    except BaseException:
        db.rollback()
        staged.unlink(missing_ok=True)
        if final is not None:
            shutil.rmtree(final.parent, ignore_errors=True)
        raise
    logger.info("Created recording record with ID: %d for user: %s", recording.id, user.username)
    _enqueue(runtime, recording.id)
    return recording


def _enqueue(runtime: Runtime, recording_id: int) -> None:
    try:
        runtime.queue.enqueue_recording(recording_id)
    except Exception:
        # The row is committed; the reaper will deliver it once the queue is back.
        logger.exception("Could not enqueue recording ID: %d", recording_id)
        return
    logger.info("Started background processing for recording ID: %d", recording_id)


def _tags_for(db: Session, user: User, names: tuple[str, ...] | list[str]) -> list[Tag]:
    tags: list[Tag] = []
    for raw in dict.fromkeys(name.strip() for name in names):
        if not raw:
            continue
        if len(raw) > 64:
            raise InvalidInputError("A tag is at most 64 characters.")
        tag = db.scalar(select(Tag).where(Tag.user_id == user.id, Tag.name == raw))
        if tag is None:
            tag = Tag(user_id=user.id, name=raw)
            db.add(tag)
        tags.append(tag)
    return tags


def get_owned_recording(db: Session, user: User, recording_id: int) -> Recording:
    """The one ownership check: someone else's recording does not exist for you."""
    recording = db.get(Recording, recording_id) if 0 < recording_id <= MAX_ID else None
    if recording is None or recording.user_id != user.id:
        raise NotFoundError("Recording not found.")
    return recording


def list_recordings(
    db: Session,
    user: User,
    *,
    q: str = "",
    status: str = "",
    tag: str = "",
    page: int = 1,
    per_page: int = 25,
) -> tuple[list[Recording], int]:
    query = select(Recording).where(Recording.user_id == user.id)
    if q.strip():
        pattern = f"%{q.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(Recording.title).like(pattern),
                func.lower(Recording.transcript_text).like(pattern),
                func.lower(Recording.summary).like(pattern),
                func.lower(Recording.original_filename).like(pattern),
            )
        )
    if status:
        if status not in set(RecordingStatus):
            raise InvalidInputError(
                f"Unknown status {status!r}; use one of: {', '.join(RecordingStatus)}."
            )
        query = query.where(Recording.status == status)
    if tag:
        query = query.where(Recording.tags.any(Tag.name == tag))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.scalars(
        query.options(selectinload(Recording.tags))
        .order_by(Recording.created_at.desc(), Recording.id.desc())
        .offset((min(max(page, 1), MAX_PAGE) - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(items), total


def recording_summary(recording: Recording) -> dict[str, Any]:
    """The fields the gallery and the live events need."""
    error = None
    if recording.error_message:
        error = {"step": recording.error_step, "message": recording.error_message}
    return {
        "id": recording.id,
        "title": recording.title,
        "status": recording.status,
        "stage": recording.stage,
        "progress": round(recording.progress, 3),
        "error": error,
        "duration": recording.duration,
        "original_filename": recording.original_filename,
        "created_at": recording.created_at.isoformat(),
    }


def recording_detail(recording: Recording) -> dict[str, Any]:
    transcript = None
    if recording.transcript_text is not None:
        transcript = {
            "text": recording.transcript_text,
            "language": recording.transcript_language,
            "segments": [
                {"start": s.start, "end": s.end, "text": s.text, "speaker": s.speaker}
                for s in recording.segments
            ],
        }
    return {
        **recording_summary(recording),
        "size_bytes": recording.size_bytes,
        "format": recording.container,
        "codec": recording.audio_codec,
        "language": recording.language,
        "recorded_at": recording.recorded_at.isoformat() if recording.recorded_at else None,
        "completed_at": recording.completed_at.isoformat() if recording.completed_at else None,
        "notes": recording.notes,
        "summary": recording.summary,
        "speakers": dict(recording.speakers or {}),
        "tags": [tag.name for tag in recording.tags],
        "transcript": transcript,
    }


@dataclass(frozen=True)
class SegmentEdit:
    index: int
    text: str | None = None
    speaker: str | None = None


@dataclass(frozen=True)
class RecordingEdit:
    title: str | None = None
    notes: str | None = None
    speakers: dict[str, str] | None = None
    tags: list[str] | None = None
    segments: list[SegmentEdit] | None = None


def update_recording(db: Session, user: User, recording: Recording, edit: RecordingEdit) -> None:
    if edit.title is not None:
        if not edit.title.strip():
            raise InvalidInputError("The title must not be empty.")
        recording.title, recording.title_is_custom = edit.title.strip()[:500], True
    if edit.notes is not None:
        recording.notes = edit.notes
    if edit.speakers is not None:
        recording.speakers = {
            label: name.strip() for label, name in edit.speakers.items() if name.strip()
        }
    if edit.tags is not None:
        recording.tags = _tags_for(db, user, edit.tags)
    if edit.segments:
        _edit_segments(recording, edit.segments)


def _edit_segments(recording: Recording, edits: list[SegmentEdit]) -> None:
    segments: list[TranscriptSegment] = list(recording.segments)
    for edit in edits:
        if not 0 <= edit.index < len(segments):
            raise InvalidInputError(f"There is no segment {edit.index} in this transcript.")
        if edit.text is not None:
            segments[edit.index].text = edit.text.strip()
        if edit.speaker is not None:
            segments[edit.index].speaker = edit.speaker.strip() or None
    recording.transcript_text = " ".join(s.text for s in segments if s.text)


def request_reprocess(runtime: Runtime, db: Session, recording: Recording, what: str) -> None:
    """Queue a step (and the ones after it) again; the current result stays until replaced."""
    if what not in REPROCESS_TARGETS:
        if what == "summary":
            raise InvalidInputError(
                "Summaries need a text model, which this version does not use yet."
            )
        raise InvalidInputError("'what' must be 'transcription' or 'summary'.")
    if recording.status in {RecordingStatus.PROCESSING, RecordingStatus.SUMMARIZING}:
        raise ConflictError("This recording is being processed; retry when it has finished.")
    first_position = STEPS.index(STEPS_BY_NAME[REPROCESS_TARGETS[what]])
    for step in recording.steps:
        if step.position >= first_position or step.state != StepState.DONE:
            step.state, step.attempts, step.error, step.worker_id = StepState.QUEUED, 0, None, None
    recording.status = RecordingStatus.QUEUED
    recording.stage, recording.progress = "Waiting for a worker", 0.0
    recording.error_step = recording.error_message = None
    db.commit()
    logger.info("Reprocessing %s for recording ID: %d", what, recording.id)
    _enqueue(runtime, recording.id)


def delete_recording(runtime: Runtime, db: Session, recording: Recording) -> None:
    """Delete the row first (a running step notices and stops), then the audio files."""
    directory = (runtime.upload_root / recording.original_path).parent
    recording_id = recording.id
    db.delete(recording)
    db.commit()
    root = runtime.upload_root
    if directory.is_relative_to(root) and directory != root:
        shutil.rmtree(directory, ignore_errors=True)
    logger.info("Deleted recording ID: %d", recording_id)


def audio_file(runtime: Runtime, recording: Recording) -> tuple[Path, str]:
    """The file to play, and its media type."""
    relative = recording.playback_path or recording.original_path
    path = runtime.upload_root / relative
    if not path.is_file():
        raise NotFoundError("The audio file of this recording is missing.")
    media_types = {
        "mp3": "audio/mpeg",
        "wav": "audio/wav",
        "m4a": "audio/mp4",
        "mp4": "video/mp4",
        "flac": "audio/flac",
        "ogg": "audio/ogg",
        "webm": "audio/webm",
        "aac": "audio/aac",
    }
    return path, media_types.get(path.suffix.lstrip("."), "application/octet-stream")
