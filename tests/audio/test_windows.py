"""Windows for the embedded engine: the same samples faster-whisper decodes, cut at pauses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from faster_whisper.audio import decode_audio

from speakr.audio.windows import SAMPLE_RATE, decode_windows, quietest_cut


def test_a_short_file_comes_whole_and_identical_to_faster_whispers_decoder(
    speech_mp3: Path,
) -> None:
    windows = list(decode_windows(speech_mp3, window_seconds=600, search_seconds=15))
    assert len(windows) == 1
    assert windows[0].start == 0.0
    assert np.array_equal(windows[0].samples, decode_audio(str(speech_mp3)))


def test_a_long_file_is_cut_into_bounded_windows_at_quiet_moments(long_speech_mp3: Path) -> None:
    reference = decode_audio(str(long_speech_mp3))
    windows = list(decode_windows(long_speech_mp3, window_seconds=30, search_seconds=5))

    assert len(windows) >= 4
    assert np.array_equal(np.concatenate([w.samples for w in windows]), reference)
    position = 0
    loudness = float(np.sqrt(np.mean(np.square(reference))))
    for window in windows:
        assert window.start == position / SAMPLE_RATE
        assert len(window.samples) <= 33 * SAMPLE_RATE + 5 * SAMPLE_RATE
        position += len(window.samples)
    for window in windows[1:]:
        cut = int(window.start * SAMPLE_RATE)
        around = reference[cut - SAMPLE_RATE // 40 : cut + SAMPLE_RATE // 40]
        assert float(np.sqrt(np.mean(np.square(around)))) < loudness / 4


def test_the_cut_lands_on_the_quiet_stretch() -> None:
    rng = np.random.default_rng(7)
    samples = rng.uniform(-0.5, 0.5, 10 * SAMPLE_RATE).astype(np.float32)
    samples[int(7.2 * SAMPLE_RATE) : int(7.4 * SAMPLE_RATE)] = 0.0
    cut = quietest_cut(samples, target=9 * SAMPLE_RATE, search=4 * SAMPLE_RATE)
    assert 7.2 * SAMPLE_RATE <= cut <= 7.4 * SAMPLE_RATE
