"""Decode audio as 16 kHz mono samples, a window at a time, each cut at a quiet moment.

The embedded engine works on samples in memory, and its feature extraction needs about 55 MB
per minute of audio; windows keep a two-hour meeting from needing gigabytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
_QUIET_FRAME = SAMPLE_RATE // 20  # 50 ms frames when looking for a pause

Samples = npt.NDArray[np.float32]


@dataclass(frozen=True)
class AudioWindow:
    start: float  # seconds from the start of the file
    samples: Samples


def quietest_cut(samples: Samples, target: int, search: int) -> int:
    """The sample index of the quietest 50 ms frame in `search` samples before `target`."""
    start = max(target - search, 0)
    region = samples[start:target]
    frames = len(region) // _QUIET_FRAME
    if frames < 2:
        return target
    energy = np.square(region[: frames * _QUIET_FRAME].reshape(frames, _QUIET_FRAME)).mean(axis=1)
    return start + int(np.argmin(energy)) * _QUIET_FRAME + _QUIET_FRAME // 2


def decode_windows(
    path: Path, *, window_seconds: float, search_seconds: float
) -> Iterator[AudioWindow]:
    """Yield windows of at most `window_seconds`; a file not much longer than one window
    (up to 10 % more) comes whole, exactly as a single decode would give it."""
    window = int(window_seconds * SAMPLE_RATE)
    limit = int(window * 1.1)
    search = int(search_seconds * SAMPLE_RATE)
    pending: list[Samples] = []
    pending_size = 0
    consumed = 0
    for chunk in _decode(path):
        pending.append(chunk)
        pending_size += len(chunk)
        if pending_size <= limit + search:
            continue
        buffer = np.concatenate(pending)
        while len(buffer) > limit + search:
            cut = quietest_cut(buffer, window, search)
            yield AudioWindow(consumed / SAMPLE_RATE, buffer[:cut].copy())
            consumed += cut
            buffer = buffer[cut:]
        pending, pending_size = [buffer], len(buffer)
    if pending_size:
        buffer = np.concatenate(pending)
        if len(buffer) > limit:
            cut = quietest_cut(buffer, window, search)
            yield AudioWindow(consumed / SAMPLE_RATE, buffer[:cut].copy())
            consumed, buffer = consumed + cut, buffer[cut:]
        yield AudioWindow(consumed / SAMPLE_RATE, buffer)


def _decode(path: Path) -> Iterator[Samples]:
    """Mono 16 kHz float32, converted the way faster-whisper's own decoder does (via s16)."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    with av.open(str(path), metadata_errors="ignore") as container:
        for frame in container.decode(audio=0):
            for resampled in resampler.resample(frame):
                yield resampled.to_ndarray().reshape(-1).astype(np.float32) / 32768.0
        for resampled in resampler.resample(None):
            yield resampled.to_ndarray().reshape(-1).astype(np.float32) / 32768.0
