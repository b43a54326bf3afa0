"""Real speech for tests: espeak-ng speaks, PyAV encodes, jiwer scores."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import av
import jiwer

SPEECH_TEXT = (
    "Good morning everyone. Thank you for joining the weekly planning meeting. "
    "Today we will review the budget for the new office, agree on the hiring plan, "
    "and decide when the product launch should happen. Please send your notes by Friday."
)


LONG_SPEECH_TEXT = " ".join(
    [
        SPEECH_TEXT,
        "The marketing team presented three options for the spring campaign. The first option "
        "focuses on social media, the second on radio advertising, and the third on events.",
        "Our customers asked for better search, faster exports and a simpler settings page. "
        "The support queue is shorter than last month, but response times are still too long.",
        "The finance report shows that travel costs went down while software costs went up. "
        "We should review every subscription before the end of the quarter.",
        "Maria will lead the hiring for two engineers and one designer. Interviews start next "
        "Tuesday, and every candidate will meet at least three people from the team.",
        "The warehouse in the north will close for repairs during the first week of March. "
        "Orders from that region will ship from the central warehouse instead.",
        "Security training is mandatory for everyone this year. The course takes about forty "
        "minutes and must be finished before the end of the month.",
        "Finally, the summer party will take place by the lake. Families are welcome, and the "
        "kitchen will prepare vegetarian options. Thank you all, and see you next week.",
    ]
)


def require_espeak() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise RuntimeError("espeak-ng is missing; run scripts/install-test-deps.sh")
    return path


def speak(text: str, destination: Path, *, words_per_minute: int = 150) -> Path:
    """Speak `text` into a WAV file with espeak-ng."""
    subprocess.run(
        [require_espeak(), "-s", str(words_per_minute), "-w", str(destination), text],
        check=True,
        capture_output=True,
    )
    return destination


def encode(
    source: Path,
    destination: Path,
    *,
    container: str,
    codec: str,
    rate: int = 16000,
    bit_rate: int | None = None,
    layout: str = "mono",
) -> Path:
    """Re-encode `source` (any audio) with PyAV."""
    with av.open(str(source)) as inp, av.open(str(destination), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = layout
        if bit_rate:
            stream.bit_rate = bit_rate
        resampler = av.AudioResampler(format=stream.format.name, layout=layout, rate=rate)
        for frame in inp.decode(audio=0):
            frame.pts = None
            for resampled in resampler.resample(frame):
                for packet in stream.encode(resampled):
                    out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return destination


def word_error_rate(reference: str, hypothesis: str) -> float:
    def words(text: str) -> str:
        return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())

    return float(jiwer.wer(words(reference), words(hypothesis)))
