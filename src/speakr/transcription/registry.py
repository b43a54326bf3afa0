"""Choose the transcription engine from settings and build it from a frozen config.

Remote engines (OpenAI-compatible `/audio/transcriptions`, whisper-asr-webservice `/asr`)
register here beside the local one.
"""

from __future__ import annotations

from speakr.errors import ConfigurationError
from speakr.settings import Settings
from speakr.transcription.base import TranscriptionEngine
from speakr.transcription.engines.local import LocalEngineConfig, LocalWhisperEngine


def local_engine_config(settings: Settings) -> LocalEngineConfig:
    return LocalEngineConfig(
        model=settings.LOCAL_WHISPER_MODEL,
        device=settings.LOCAL_WHISPER_DEVICE,
        compute_type=settings.LOCAL_WHISPER_COMPUTE_TYPE,
        threads=settings.LOCAL_WHISPER_THREADS,
        beam_size=settings.LOCAL_WHISPER_BEAM_SIZE,
        window_seconds=settings.LOCAL_WHISPER_WINDOW_SECONDS,
    )


def build_transcription_engine(settings: Settings) -> TranscriptionEngine:
    if settings.uses_remote_transcription:
        raise ConfigurationError(
            "TRANSCRIPTION_BASE_URL / USE_ASR_ENDPOINT are set, but this version of Speakr "
            "has only the embedded engine; unset them to transcribe locally."
        )
    return LocalWhisperEngine(local_engine_config(settings))
