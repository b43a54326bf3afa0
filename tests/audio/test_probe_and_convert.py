"""probe() on real recordings of every supported format, refusal of damaged files, and the
32 kbps mono MP3 conversion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import pytest

from speakr.audio import MediaInfo, convert_to_mp3, needs_conversion, probe
from speakr.audio.probe import DamagedMediaError
from speakr.errors import InvalidInputError, UnsupportedMediaError
from tests.helpers.audio import encode

MP4 = "mov,mp4,m4a,3gp,3g2,mj2"
# name -> (encode() arguments, container, codec prefix, MediaInfo.extension)
FORMATS: dict[str, tuple[dict[str, Any], str, str, str]] = {
    "mp3": ({"container": "mp3", "codec": "libmp3lame", "bit_rate": 32000}, "mp3", "mp3", "mp3"),
    "m4a": ({"container": "ipod", "codec": "aac"}, MP4, "aac", "m4a"),
    "flac": ({"container": "flac", "codec": "flac"}, "flac", "flac", "flac"),
    "ogg": ({"container": "ogg", "codec": "libopus", "rate": 48000}, "ogg", "opus", "ogg"),
    "webm": (
        {"container": "webm", "codec": "libopus", "rate": 48000},
        "matroska,webm",
        "opus",
        "webm",
    ),
    "wma": ({"container": "asf", "codec": "wmav2", "bit_rate": 32000}, "asf", "wmav2", "wma"),
    "aiff": ({"container": "aiff", "codec": "pcm_s16be"}, "aiff", "pcm_s16be", "aiff"),
    "mka": ({"container": "matroska", "codec": "pcm_s16le"}, "matroska,webm", "pcm_s16le", "webm"),
}
SUPPORTED = ["mp3", "m4a", "flac", "ogg", "webm"]


@pytest.fixture(scope="module")
def recordings(speech_wav: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The spoken WAV, re-encoded into every format above."""
    folder = tmp_path_factory.mktemp("formats")
    made = {"wav": speech_wav}
    for name, (arguments, *_) in FORMATS.items():
        made[name] = encode(speech_wav, folder / f"speech.{name}", **arguments)
    return made


@pytest.fixture(scope="module")
def wav_duration(speech_wav: Path) -> float:
    with av.open(str(speech_wav)) as container:
        stream = container.streams.audio[0]
        assert stream.duration is not None
        return float(stream.duration * stream.time_base)


def assert_is_a_sentence(message: str) -> None:
    assert message[0].isupper(), message
    assert message.endswith("."), message
    assert "\n" not in message
    assert len(message.split()) >= 3


def test_probe_describes_a_wav_file(speech_wav: Path, wav_duration: float) -> None:
    info = probe(speech_wav)

    assert (info.container, info.codec, info.extension) == ("wav", "pcm_s16le", "wav")
    assert info.duration == pytest.approx(wav_duration, abs=0.2)
    assert info.channels == 1
    assert info.sample_rate > 0
    assert info.has_video is False


@pytest.mark.parametrize("name", SUPPORTED)
def test_probe_reports_container_codec_duration_and_extension(
    recordings: dict[str, Path], wav_duration: float, name: str
) -> None:
    _, container, codec, extension = FORMATS[name]

    info = probe(recordings[name])

    assert info.container == container
    assert info.codec.startswith(codec)
    assert info.extension == extension
    assert info.duration is not None
    assert info.duration == pytest.approx(wav_duration, abs=0.2)
    assert info.channels == 1
    assert info.has_video is False


def test_extension_comes_from_the_content_not_the_file_name(
    recordings: dict[str, Path], tmp_path: Path
) -> None:
    disguised = tmp_path / "really-m4a.mp3"
    disguised.write_bytes(recordings["m4a"].read_bytes())

    assert probe(disguised).extension == "m4a"


def test_mp4_with_video_is_stored_as_mp4() -> None:
    info = MediaInfo(MP4, "aac", 10.0, 44100, 2, has_video=True, recorded_at=None)

    assert info.extension == "mp4"


def test_probe_rejects_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp3"
    empty.touch()

    with pytest.raises(InvalidInputError) as caught:
        probe(empty)

    assert 400 <= caught.value.status < 500
    assert_is_a_sentence(caught.value.message)


def test_probe_rejects_a_text_file_renamed_mp3(tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp3"
    notes.write_text("Meeting notes\n- budget\n- hiring plan\n- launch date\n" * 20)

    with pytest.raises(UnsupportedMediaError) as caught:
        probe(notes)

    assert caught.value.status == 415
    assert_is_a_sentence(caught.value.message)


@pytest.mark.parametrize("name", ["mp3", "wav", "flac"])
def test_probe_rejects_a_truncated_file(
    recordings: dict[str, Path], tmp_path: Path, name: str
) -> None:
    data = recordings[name].read_bytes()
    truncated = tmp_path / f"truncated.{name}"
    truncated.write_bytes(data[: len(data) // 2])

    with pytest.raises(InvalidInputError) as caught:
        probe(truncated)

    assert isinstance(caught.value, DamagedMediaError)
    assert 400 <= caught.value.status < 500
    assert_is_a_sentence(caught.value.message)


@pytest.mark.parametrize("name", ["wav", "ogg", "m4a"])
def test_convert_to_mp3_writes_32_kbps_mono_mp3(
    recordings: dict[str, Path], wav_duration: float, tmp_path: Path, name: str
) -> None:
    destination = tmp_path / "converted.mp3"

    convert_to_mp3(recordings[name], destination, duration=wav_duration)

    info = probe(destination)
    assert info.container == "mp3"
    assert info.codec.startswith("mp3")
    assert info.channels == 1
    assert info.duration == pytest.approx(wav_duration, abs=0.3)
    with av.open(str(destination)) as container:
        assert container.streams.audio[0].bit_rate == 32_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["converted.mp3"]


def test_convert_to_mp3_reports_rising_progress_up_to_the_end(
    speech_wav: Path, wav_duration: float, tmp_path: Path
) -> None:
    fractions: list[float] = []

    convert_to_mp3(
        speech_wav, tmp_path / "converted.mp3", duration=wav_duration, progress=fractions.append
    )

    assert len(fractions) >= 2
    assert fractions == sorted(fractions)
    assert 0 <= fractions[0] < 0.5
    assert 0.9 <= fractions[-1] <= 1.0


def test_convert_to_mp3_of_a_text_file_fails_and_leaves_nothing(tmp_path: Path) -> None:
    notes = tmp_path / "notes.wav"
    notes.write_text("not audio at all\n" * 50)
    destination = tmp_path / "converted.mp3"

    with pytest.raises(InvalidInputError):
        convert_to_mp3(notes, destination, duration=None)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.wav"]


@pytest.mark.parametrize("name", ["wav", "mp3", "m4a", "ogg", "webm", "flac"])
def test_browser_playable_recordings_need_no_conversion(
    recordings: dict[str, Path], name: str
) -> None:
    info = probe(recordings[name])

    assert needs_conversion(info.container, info.codec) is False


@pytest.mark.parametrize("name", ["wma", "aiff", "mka"])
def test_unusual_recordings_need_conversion(recordings: dict[str, Path], name: str) -> None:
    _, container, codec, extension = FORMATS[name]

    info = probe(recordings[name])

    assert (info.container, info.codec, info.extension) == (container, codec, extension)
    assert needs_conversion(info.container, info.codec) is True


@pytest.mark.parametrize(
    ("container", "codec", "expected"),
    [
        ("mp3", "mp3", False),
        (MP4, "aac", False),
        ("ogg", "opus", False),
        ("asf", "wmav2", True),
        ("wav", "pcm_f32le", True),
        ("amr", "amr_nb", True),
        (MP4, "alac", True),
    ],
)
def test_needs_conversion_by_container_and_codec(
    container: str, codec: str, expected: bool
) -> None:
    assert needs_conversion(container, codec) is expected
