"""The pipeline's steps, in order. Each is idempotent and writes only its own result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete

from speakr.audio import convert_to_mp3, needs_conversion
from speakr.db import Recording, RecordingStatus, TranscriptSegment, session_scope
from speakr.errors import RecordingGoneError
from speakr.services.titles import default_title
from speakr.transcription import TranscriptionRequest

if TYPE_CHECKING:
    from speakr.runtime import Runtime


@dataclass
class StepContext:
    runtime: Runtime
    recording_id: int
    progress: Callable[[float, str], None]

    def load(self) -> Recording:
        """A detached copy of the recording, for reading."""
        with session_scope(self.runtime.sessions) as db:
            recording = db.get(Recording, self.recording_id)
            if recording is None:
                raise RecordingGoneError("The recording was deleted.")
            return recording


@dataclass(frozen=True)
class StepSpec:
    name: str
    run: Callable[[StepContext], None]
    status: RecordingStatus
    label: str
    weight: float  # share of the whole pipeline's progress bar


def prepare_audio(ctx: StepContext) -> None:
    """Make an MP3 copy when the original's codec is one browsers or engines cannot take."""
    recording = ctx.load()
    if recording.playback_path or not needs_conversion(recording.container, recording.audio_codec):
        return
    original = ctx.runtime.upload_root / recording.original_path
    relative = f"{recording.original_path.rsplit('/', 1)[0]}/playback.mp3"
    convert_to_mp3(
        original,
        ctx.runtime.upload_root / relative,
        duration=recording.duration,
        progress=lambda fraction: ctx.progress(fraction, "Converting to MP3"),
    )
    with session_scope(ctx.runtime.sessions) as db:
        stored = db.get(Recording, ctx.recording_id)
        if stored is None:
            raise RecordingGoneError("The recording was deleted.")
        stored.playback_path = relative


def transcribe(ctx: StepContext) -> None:
    """Run the engine; replace the transcript only once the new one is complete."""
    recording = ctx.load()
    audio = ctx.runtime.upload_root / (recording.playback_path or recording.original_path)
    request = TranscriptionRequest(
        language=recording.language,
        min_speakers=recording.min_speakers,
        max_speakers=recording.max_speakers,
        duration=recording.duration,
    )
    transcript = ctx.runtime.transcriber.transcribe(audio, request, ctx.progress)
    with session_scope(ctx.runtime.sessions) as db:
        stored = db.get(Recording, ctx.recording_id)
        if stored is None:
            raise RecordingGoneError("The recording was deleted.")
        db.execute(delete(TranscriptSegment).where(TranscriptSegment.recording_id == stored.id))
        db.add_all(
            TranscriptSegment(
                recording_id=stored.id,
                position=position,
                start=segment.start,
                end=segment.end,
                text=segment.text,
                speaker=segment.speaker,
                words=[w.__dict__ for w in segment.words] if segment.words else None,
            )
            for position, segment in enumerate(transcript.segments)
        )
        stored.transcript_text = transcript.text
        stored.transcript_language = transcript.language
        stored.transcript_engine = transcript.engine
        if transcript.duration and not stored.duration:
            stored.duration = transcript.duration


def write_title(ctx: StepContext) -> None:
    """Until a text model writes titles: the original file name and the recording date."""
    with session_scope(ctx.runtime.sessions) as db:
        stored = db.get(Recording, ctx.recording_id)
        if stored is None:
            raise RecordingGoneError("The recording was deleted.")
        if not stored.title_is_custom:
            stored.title = default_title(
                stored.original_filename, stored.recorded_at or stored.created_at
            )


STEPS: tuple[StepSpec, ...] = (
    StepSpec("prepare", prepare_audio, RecordingStatus.PROCESSING, "Preparing audio", 0.05),
    StepSpec("transcribe", transcribe, RecordingStatus.PROCESSING, "Transcribing", 0.9),
    StepSpec("title", write_title, RecordingStatus.SUMMARIZING, "Writing the title", 0.05),
)
STEPS_BY_NAME = {step.name: step for step in STEPS}
