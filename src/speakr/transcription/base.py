"""The engine contract: every engine turns an audio file into timed segments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

ProgressCallback = Callable[[float, str], None]
"""progress(fraction 0..1 of this step, a short stage text such as 'chunk 2 of 5')."""


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str
    probability: float | None = None


@dataclass(frozen=True)
class Segment:
    """A stretch of speech, in seconds from the start of the original file."""

    start: float
    end: float
    text: str
    speaker: str | None = None
    words: tuple[Word, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "speaker": self.speaker,
        }
        if self.words is not None:
            data["words"] = [word.__dict__ for word in self.words]
        return data


@dataclass(frozen=True)
class Transcript:
    segments: tuple[Segment, ...]
    language: str | None
    engine: str
    duration: float | None = None

    @property
    def text(self) -> str:
        return " ".join(segment.text for segment in self.segments if segment.text)


@dataclass(frozen=True)
class TranscriptionRequest:
    """What the pipeline asks of an engine for one recording."""

    language: str | None = None
    word_timestamps: bool = False
    min_speakers: int | None = None
    max_speakers: int | None = None
    duration: float | None = None


class TranscriptionEngine(Protocol):
    """Turns one audio file into a Transcript.

    Engines are built from a frozen config by the registry and never read settings; they
    report progress through the callback, which raises if the work should stop (the
    recording was deleted), and raise `TranscriptionError` with the provider's own message.
    """

    name: str

    def transcribe(
        self, audio: Path, request: TranscriptionRequest, progress: ProgressCallback
    ) -> Transcript: ...

    def readiness(self) -> str:
        """A short sentence for /health: what this engine is and whether it can run."""
        ...
