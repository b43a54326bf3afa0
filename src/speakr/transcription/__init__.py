"""Transcription: the engine Protocol, the engines, and transcript formats."""

from speakr.transcription.base import (
    ProgressCallback,
    Segment,
    Transcript,
    TranscriptionEngine,
    TranscriptionRequest,
    Word,
)
from speakr.transcription.registry import build_transcription_engine

__all__ = [
    "ProgressCallback",
    "Segment",
    "Transcript",
    "TranscriptionEngine",
    "TranscriptionRequest",
    "Word",
    "build_transcription_engine",
]
