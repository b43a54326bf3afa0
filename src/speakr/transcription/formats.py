"""Transcript exports shared by the API and the CLI: txt, srt, vtt, md, json."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from speakr.transcription.base import Segment

EXPORT_FORMATS = ("txt", "srt", "vtt", "md", "json")
MEDIA_TYPES = {
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
}


def _clock(seconds: float, separator: str) -> str:
    millis = round(max(seconds, 0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _speaker_prefix(segment: Segment, speakers: Mapping[str, str]) -> str:
    if not segment.speaker:
        return ""
    return f"{speakers.get(segment.speaker) or segment.speaker}: "


def render_transcript(
    fmt: str,
    segments: Sequence[Segment],
    *,
    title: str = "",
    language: str | None = None,
    speakers: Mapping[str, str] | None = None,
) -> str:
    names = speakers or {}
    if fmt == "txt":
        return "\n".join(_speaker_prefix(s, names) + s.text for s in segments) + "\n"
    if fmt == "srt":
        blocks = [
            f"{i}\n{_clock(s.start, ',')} --> {_clock(s.end, ',')}\n"
            f"{_speaker_prefix(s, names)}{s.text}\n"
            for i, s in enumerate(segments, start=1)
        ]
        return "\n".join(blocks)
    if fmt == "vtt":
        cues = [
            f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}\n"
            f"{_speaker_prefix(s, names)}{s.text}\n"
            for s in segments
        ]
        return "WEBVTT\n\n" + "\n".join(cues)
    if fmt == "md":
        lines = [f"# {title}\n"] if title else []
        lines += [
            f"**[{_clock(s.start, '.')[:8]}]** {_speaker_prefix(s, names)}{s.text}\n"
            for s in segments
        ]
        return "\n".join(lines)
    if fmt == "json":
        payload: dict[str, Any] = {
            "title": title,
            "language": language,
            "speakers": dict(names),
            "text": " ".join(s.text for s in segments),
            "segments": [s.to_dict() for s in segments],
        }
        return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
