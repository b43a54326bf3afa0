"""Read what a file really is from its content (PyAV), and refuse what we cannot use."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import av

from speakr.errors import InvalidInputError, UnsupportedMediaError

# Demuxers of the formats the deployment guide lists (and close kin a recorder may produce).
# An allow-list, because FFmpeg will happily "detect" text as some obscure format.
_CONTAINER_EXTENSIONS = {
    "mp3": "mp3",
    "wav": "wav",
    "w64": "w64",
    "flac": "flac",
    "aac": "aac",
    "ogg": "ogg",
    "matroska,webm": "webm",
    "amr": "amr",
    "asf": "wma",
    "aiff": "aiff",
    "caf": "caf",
    "mov,mp4,m4a,3gp,3g2,mj2": "m4a",
}
# How far (seconds) the decodable audio may fall short of the header's duration.
_TRUNCATION_TOLERANCE = 1.0


class DamagedMediaError(InvalidInputError):
    status = 422


@dataclass(frozen=True)
class MediaInfo:
    container: str
    codec: str
    duration: float | None
    sample_rate: int
    channels: int
    has_video: bool
    recorded_at: datetime | None

    @property
    def extension(self) -> str:
        """A file extension for storing this content, chosen from what it is."""
        if self.container.startswith("mov,mp4"):
            return "mp4" if self.has_video else "m4a"
        return _CONTAINER_EXTENSIONS[self.container]


def probe(path: Path) -> MediaInfo:
    """Describe an audio or video file, or raise a 4xx error saying what is wrong with it."""
    size = path.stat().st_size
    if size == 0:
        raise InvalidInputError("The file is empty.")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise UnsupportedMediaError(
            "Speakr cannot read this file: it is not an audio or video recording, or it is "
            "damaged or incomplete. Supported: MP3, WAV, M4A, FLAC, AAC, OGG, WebM, AMR, 3GP, "
            "MP4, MOV and WMA."
        ) from exc
    with container:
        if container.format.name not in _CONTAINER_EXTENSIONS:
            raise UnsupportedMediaError(
                "This file is not an audio or video recording Speakr can read. Supported: "
                "MP3, WAV, M4A, FLAC, AAC, OGG, WebM, AMR, 3GP, MP4, MOV and WMA."
            )
        has_video = any(s.type == "video" and not _is_cover_art(s) for s in container.streams)
        if not container.streams.audio:
            what = "video" if has_video else "file"
            raise UnsupportedMediaError(f"This {what} has no audio track to transcribe.")
        stream = container.streams.audio[0]
        duration = container.duration / 1_000_000 if container.duration else None
        _check_decodable(container, duration)
        info = MediaInfo(
            container=container.format.name,
            codec=stream.codec_context.codec.canonical_name,
            duration=duration,
            sample_rate=stream.codec_context.sample_rate or 0,
            channels=stream.codec_context.channels or 0,
            has_video=has_video,
            recorded_at=_creation_time({**container.metadata, **stream.metadata}),
        )
    if info.container == "wav":
        _check_wav_length(path, size)
    return info


def _is_cover_art(stream: av.stream.Stream) -> bool:
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _check_decodable(container: av.container.InputContainer, duration: float | None) -> None:
    """Decode the first and the last seconds: damaged or truncated files fail here."""
    stream = container.streams.audio[0]
    try:
        first = next(container.decode(stream), None)
        if first is None:
            raise DamagedMediaError("This file contains no decodable audio.")
        if duration is None or duration < 4:
            return
        container.seek(int((duration - 3) * 1_000_000))
        end = None
        for frame in container.decode(stream):
            if frame.pts is not None and frame.time_base is not None:
                end = float(frame.pts * frame.time_base) + frame.samples / frame.sample_rate
    except av.error.FFmpegError as exc:
        raise DamagedMediaError(
            "The audio in this file cannot be decoded; the file is damaged or incomplete."
        ) from exc
    if end is None or end < duration - _TRUNCATION_TOLERANCE:
        raise DamagedMediaError(
            f"This file is truncated: its header promises {duration:.0f} s of audio "
            "but the data stops early. Upload the complete file."
        )


def _check_wav_length(path: Path, size: int) -> None:
    """WAV headers state the data length; FFmpeg silently plays a cut file, we refuse it."""
    with path.open("rb") as handle:
        header = handle.read(12)
        if len(header) < 12 or header[:4] != b"RIFF":
            return
        while True:
            chunk = handle.read(8)
            if len(chunk) < 8:
                return
            chunk_id, chunk_size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if chunk_id == b"data":
                # 0 and 0xFFFFFFFF mean "unknown" (streamed writers); trust the file then.
                promised = handle.tell() + chunk_size
                if chunk_size not in (0, 0xFFFFFFFF) and promised > size + 1:
                    raise DamagedMediaError(
                        "This WAV file is truncated: its header promises more audio than "
                        "the file holds. Upload the complete file."
                    )
                return
            handle.seek(chunk_size + (chunk_size & 1), 1)


def _creation_time(metadata: dict[str, str]) -> datetime | None:
    for key in ("creation_time", "date", "DATE"):
        value = metadata.get(key)
        if not value:
            continue
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None
