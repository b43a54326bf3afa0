"""The recordings API (v1)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from speakr.db import User
from speakr.errors import InvalidInputError
from speakr.runtime import Runtime
from speakr.services import recordings as service
from speakr.transcription import Segment
from speakr.transcription.formats import MEDIA_TYPES, render_transcript
from speakr.web.deps import CurrentUser, DbDep, OwnedRecording, RuntimeDep
from speakr.web.upload_stream import ReceivedUpload, receive_upload

router = APIRouter(prefix="/recordings", tags=["recordings"])

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "title": {"type": "string"},
                        "language": {"type": "string", "description": "e.g. en; blank = auto"},
                        "min_speakers": {"type": "integer"},
                        "max_speakers": {"type": "integer"},
                        "tags": {"type": "string", "description": "comma-separated"},
                    },
                }
            }
        },
    }
}


@router.get("")
def list_recordings(
    db: DbDep,
    user: CurrentUser,
    q: str = "",
    status: str = "",
    tag: str = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 25,
) -> dict[str, Any]:
    items, total = service.list_recordings(
        db, user, q=q, status=status, tag=tag, page=page, per_page=per_page
    )
    return {"items": [service.recording_summary(r) for r in items], "total": total}


def _optional_int(fields: dict[str, str], name: str) -> int | None:
    value = fields.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise InvalidInputError(f"'{name}' must be a whole number.") from exc


def _create(runtime: Runtime, user: User, staged: Path, upload: ReceivedUpload) -> dict[str, Any]:
    fields = upload.fields
    new = service.NewRecording(
        original_filename=upload.filename or "",
        title=fields.get("title"),
        language=fields.get("language"),
        min_speakers=_optional_int(fields, "min_speakers"),
        max_speakers=_optional_int(fields, "max_speakers"),
        tags=tuple(t for t in fields.get("tags", "").split(",") if t.strip()),
    )
    with runtime.sessions() as db:
        recording = service.create_recording_from_file(runtime, db, user, staged, new)
        return service.recording_detail(recording)


@router.post("", status_code=201, openapi_extra=_UPLOAD_BODY)
async def upload_recording(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Any:
    """Upload a recording (multipart `file`); it is stored, probed and queued."""
    staged = service.new_staging_path(runtime)
    upload = await receive_upload(request, staged, runtime.settings.max_upload_bytes)
    try:
        return await run_in_threadpool(_create, runtime, user, staged, upload)
    finally:
        staged.unlink(missing_ok=True)


@router.get("/{recording_id}")
def get_recording(recording: OwnedRecording) -> dict[str, Any]:
    return service.recording_detail(recording)


class SegmentPatch(BaseModel):
    index: int = Field(ge=0)
    text: str | None = None
    speaker: str | None = None


class RecordingPatch(BaseModel):
    title: str | None = Field(default=None, max_length=500)
    notes: str | None = None
    speakers: dict[str, str] | None = None
    tags: list[str] | None = None
    segments: list[SegmentPatch] | None = None


@router.patch("/{recording_id}")
def edit_recording(
    patch: RecordingPatch, recording: OwnedRecording, db: DbDep, user: CurrentUser
) -> dict[str, Any]:
    edit = service.RecordingEdit(
        title=patch.title,
        notes=patch.notes,
        speakers=patch.speakers,
        tags=patch.tags,
        segments=[service.SegmentEdit(**s.model_dump()) for s in patch.segments or []],
    )
    service.update_recording(db, user, recording, edit)
    db.commit()
    return service.recording_detail(recording)


@router.delete("/{recording_id}", status_code=204)
def delete_recording(recording: OwnedRecording, db: DbDep, runtime: RuntimeDep) -> None:
    service.delete_recording(runtime, db, recording)


class ReprocessRequest(BaseModel):
    what: Literal["transcription", "summary"] = "transcription"
    prompt: str | None = None


@router.post("/{recording_id}/reprocess", status_code=202)
def reprocess_recording(
    body: ReprocessRequest, recording: OwnedRecording, db: DbDep, runtime: RuntimeDep
) -> dict[str, Any]:
    if body.prompt and body.what != "summary":
        raise InvalidInputError("A prompt applies only to reprocessing the summary.")
    service.request_reprocess(runtime, db, recording, body.what)
    return service.recording_detail(recording)


@router.get("/{recording_id}/audio", response_class=FileResponse)
def recording_audio(recording: OwnedRecording, runtime: RuntimeDep) -> FileResponse:
    """The audio, with HTTP range requests for seeking."""
    path, media_type = service.audio_file(runtime, recording)
    return FileResponse(path, media_type=media_type)


@router.get("/{recording_id}/export")
def export_recording(
    recording: OwnedRecording,
    format: Literal["txt", "srt", "vtt", "md", "json"] = "txt",
) -> Response:
    if recording.transcript_text is None:
        raise InvalidInputError("This recording has no transcript yet.")
    segments = [
        Segment(start=s.start, end=s.end, text=s.text, speaker=s.speaker)
        for s in recording.segments
    ]
    body = render_transcript(
        format,
        segments,
        title=recording.title,
        language=recording.transcript_language,
        speakers=recording.speakers,
    )
    filename = f"recording-{recording.id}.{format}"
    return Response(
        body,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
