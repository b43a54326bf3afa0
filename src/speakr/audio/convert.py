"""Encode audio to 32 kbps mono MP3 in-process with PyAV (no system ffmpeg needed)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import av

from speakr.errors import InvalidInputError

# Codecs every current browser plays and every engine accepts; anything else gets an MP3 copy.
PLAYABLE_CODECS = {
    ("mp3", "mp3"),
    ("wav", "pcm_s16le"),
    ("flac", "flac"),
    ("ogg", "opus"),
    ("ogg", "vorbis"),
    ("matroska,webm", "opus"),
    ("matroska,webm", "vorbis"),
    ("mov,mp4,m4a,3gp,3g2,mj2", "aac"),
    ("aac", "aac"),
}
MP3_BITRATE = 32_000
MP3_SAMPLE_RATE = 16_000


def needs_conversion(container: str, codec: str) -> bool:
    return (container, codec) not in PLAYABLE_CODECS


def convert_to_mp3(
    source: Path,
    destination: Path,
    *,
    duration: float | None,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Write a 32 kbps mono MP3 of `source` to `destination`, atomically and fsynced."""
    partial = destination.with_name(destination.name + ".part")
    try:
        with av.open(str(source)) as inp, av.open(str(partial), "w", format="mp3") as out:
            stream = out.add_stream("libmp3lame", rate=MP3_SAMPLE_RATE)
            stream.bit_rate = MP3_BITRATE
            stream.layout = "mono"
            resampler = av.AudioResampler(format="s16p", layout="mono", rate=MP3_SAMPLE_RATE)
            for frame in inp.decode(audio=0):
                position = frame.time  # read before pts is cleared for the encoder
                frame.pts = None
                for resampled in resampler.resample(frame):
                    for packet in stream.encode(resampled):
                        out.mux(packet)
                if progress and duration and position is not None:
                    progress(min(position / duration, 1.0))
            for resampled in resampler.resample(None):
                for packet in stream.encode(resampled):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        partial.replace(destination)
    except av.error.FFmpegError as exc:
        partial.unlink(missing_ok=True)
        raise InvalidInputError(f"Could not convert the audio to MP3: {exc.strerror}.") from exc
