"""Long recordings through the embedded engine: time, words and peak memory, with and
without Speakr's windows.

    python bench/long_recording.py [--minutes 60] [--window 300] [--direct]

Each measurement runs in a fresh child process, so one does not inherit the other's heap.
`--direct` also runs plain faster-whisper on the whole file (it needs several GB for an hour).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import MIB, RssSampler, speech_mp3, spoken_text_path, word_error_rate


def measure_speakr(audio: Path, window: float) -> dict[str, Any]:
    from speakr.transcription import TranscriptionRequest
    from speakr.transcription.engines.local import LocalEngineConfig, LocalWhisperEngine

    engine = LocalWhisperEngine(
        LocalEngineConfig(compute_type="int8", device="cpu", window_seconds=window)
    )
    engine.load()
    with RssSampler(os.getpid(), interval=0.02) as sampler:
        loaded = sampler.rss()
        started = time.perf_counter()
        transcript = engine.transcribe(audio, TranscriptionRequest(), lambda _f, _s: None)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "loaded": loaded, "peak": sampler.peak, "text": transcript.text}


def measure_direct(audio: Path) -> dict[str, Any]:
    from faster_whisper import WhisperModel

    from speakr.transcription.engines.local import resolve_model

    model = WhisperModel(
        resolve_model("tiny.en"), device="cpu", compute_type="int8", cpu_threads=os.cpu_count()
    )
    with RssSampler(os.getpid(), interval=0.02) as sampler:
        loaded = sampler.rss()
        started = time.perf_counter()
        segments, _info = model.transcribe(str(audio), beam_size=5)
        text = " ".join(segment.text.strip() for segment in segments)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "loaded": loaded, "peak": sampler.peak, "text": text}


def in_child(kind: str, audio: Path, window: float) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", kind, "--audio", str(audio)]
    command += ["--window", str(window)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def report(name: str, result: dict[str, Any], duration: float, spoken: str) -> None:
    print(
        f"{name:>22}: {result['seconds']:7.1f} s (RTF {result['seconds'] / duration:.3f}), "
        f"WER vs spoken text {word_error_rate(spoken, result['text']):.2%}, "
        f"RSS model loaded {result['loaded'] / MIB:.0f} MiB, "
        f"peak {result['peak'] / MIB:.0f} MiB (+{(result['peak'] - result['loaded']) / MIB:.0f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--window", type=float, default=300)
    parser.add_argument("--direct", action="store_true", help="also run plain faster-whisper")
    parser.add_argument("--child", choices=["speakr", "direct"], help=argparse.SUPPRESS)
    parser.add_argument("--audio", type=Path, help=argparse.SUPPRESS)
    cache = Path(tempfile.gettempdir()) / "speakr-bench-cache"
    parser.add_argument("--cache-dir", type=Path, default=cache)
    args = parser.parse_args()

    if args.child:
        measure = measure_direct if args.child == "direct" else None
        result = measure(args.audio) if measure else measure_speakr(args.audio, args.window)
        print(json.dumps(result))
        return 0

    audio = speech_mp3(args.minutes, args.cache_dir)
    from speakr.audio import probe

    duration = probe(audio).duration or args.minutes * 60
    print(f"{audio.name}: {duration / 60:.1f} min, {os.cpu_count()} CPUs")
    spoken = spoken_text_path(audio).read_text()
    ours = in_child("speakr", audio, args.window)
    report(f"Speakr, {args.window:g} s windows", ours, duration, spoken)
    if args.direct:
        direct = in_child("direct", audio, args.window)
        report("faster-whisper, whole", direct, duration, spoken)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
