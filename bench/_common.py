"""Shared pieces of the benchmarks: speech audio, a live server, an RSS sampler, word error rate.

Standalone on purpose: nothing here imports from `tests/`.
"""

from __future__ import annotations

import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import psutil  # type: ignore[import-untyped]

from speakr.audio import convert_to_mp3
from speakr.settings import Settings

MIB = 1024 * 1024
SAMPLE_RATE = 16_000  # what the server's MP3 copies use, and the big WAV
ESPEAK_WPM = 160
SENTENCES_PER_PIECE = 8
CACHE_VERSION = 2  # bump when the sentences or the encoding change

SENTENCES = (
    "Good morning everyone, and thank you for joining the weekly planning meeting.",
    "Today we will review the budget for the new office in the city centre.",
    "The hiring plan for the next quarter needs two more engineers and a designer.",
    "Please send your notes to the team by Friday afternoon at the latest.",
    "Our customers asked for a faster search and a simpler way to share files.",
    "The product launch is planned for the second week of September.",
    "We moved the server to a larger machine because the old one ran out of memory.",
    "Last month the support team answered more than four hundred questions.",
    "The marketing department wants a short video that explains the new features.",
    "If the weather is good, the summer party will take place in the park.",
    "Remember that the office will be closed on Monday for the public holiday.",
    "The train to the conference leaves at half past seven in the morning.",
    "We should write down every decision so that nobody has to guess later.",
    "The new coffee machine on the third floor makes surprisingly good espresso.",
    "Sales in the northern region grew by twelve percent compared to last year.",
    "Our biggest risk is that the supplier cannot deliver the parts on time.",
    "The security audit found three small problems and no serious ones.",
    "Anna will lead the project while Thomas is away on parental leave.",
    "The quarterly report shows that costs are lower than we expected.",
    "Let us take a short break and continue with the next item in ten minutes.",
    "The library downstairs has a quiet room for calls and focused work.",
    "Every pull request needs one review before it can be merged.",
    "The printer on the second floor is broken again, so please use the one upstairs.",
    "We agreed to test the mobile application on older phones as well.",
    "The river behind the building floods almost every spring.",
    "Our new colleague from Lisbon starts on the first day of next month.",
    "The budget for travel is fixed, so please book your flights early.",
    "A good meeting has a clear goal, a short agenda and a written summary.",
    "The database backup runs every night at two o'clock.",
    "Customers in Japan prefer to pay with a bank transfer.",
    "Please switch off the lights and close the windows when you leave.",
    "The design team presented three different colours for the new logo.",
    "We will measure how long it takes to transcribe one hour of audio.",
    "Many small improvements are often worth more than one big change.",
    "The contract with the cleaning company ends in December.",
    "Our website was visited by almost ninety thousand people in March.",
    "The board would like to see a plan for the next three years.",
    "Some of the old laptops will be donated to the local school.",
    "The kitchen will be renovated during the first two weeks of August.",
    "That is everything for today, thank you all and see you next week.",
)


class BenchError(RuntimeError):
    """Something went wrong that the benchmark cannot measure around."""


# --- speech ---------------------------------------------------------------------------------


def espeak(text: str, destination: Path) -> Path:
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise BenchError("espeak-ng is not installed (apt-get install espeak-ng)")
    subprocess.run(
        [binary, "-s", str(ESPEAK_WPM), "-w", str(destination), text],
        check=True,
        capture_output=True,
    )
    return destination


def sentence_stream(seed: int = 20240601) -> Iterator[str]:
    """The sentences forever, each round in a new seeded order."""
    rng = random.Random(seed)
    while True:
        order = list(SENTENCES)
        rng.shuffle(order)
        yield from order


def encode_mp3(source: Path, destination: Path) -> Path:
    """32 kbps mono 16 kHz MP3: the server's own conversion, so the server need not convert."""
    convert_to_mp3(source, destination, duration=None)
    return destination


def speak_seconds(seconds: float, destination: Path, workdir: Path) -> str:
    """Write a WAV of at least `seconds` of varied speech, spoken a few sentences at a time;
    return the text spoken."""
    sentences = sentence_stream()
    spoken: list[str] = []
    with wave.open(str(destination), "wb") as out:
        total_frames, piece_index, rate = 0, 0, 0
        while rate == 0 or total_frames < seconds * rate:
            text = " ".join(next(sentences) for _ in range(SENTENCES_PER_PIECE))
            spoken.append(text)
            piece = espeak(text, workdir / f"piece-{piece_index}.wav")
            with wave.open(str(piece), "rb") as part:
                if rate == 0:
                    rate = part.getframerate()
                    out.setparams(part.getparams())
                frames = part.readframes(part.getnframes())
            out.writeframes(frames)
            total_frames += len(frames) // 2
            piece.unlink()
            piece_index += 1
    return " ".join(spoken)


def speech_mp3(minutes: float, cache_dir: Path) -> Path:
    """The cached `minutes`-long speech MP3, made on first use."""
    target = cache_dir / f"speech-{minutes:g}min-v{CACHE_VERSION}.mp3"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="speakr-bench-speech-") as tmp:
        wav = Path(tmp) / "speech.wav"
        spoken_text_path(target).write_text(speak_seconds(minutes * 60, wav, Path(tmp)))
        encode_mp3(wav, target)
    return target


def spoken_text_path(audio: Path) -> Path:
    """The text espeak-ng spoke into a cached speech file, kept beside it."""
    return audio.with_suffix(".txt")


def audio_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        if container.duration is None:
            raise BenchError(f"{path} has no duration")
        return float(container.duration) / av.time_base


def pcm16k(path: Path, max_seconds: float = 120) -> bytes:
    """Up to `max_seconds` of `path` as 16 kHz mono s16le PCM."""
    chunks: list[bytes] = []
    size, limit = 0, int(max_seconds * SAMPLE_RATE) * 2
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    with av.open(str(path)) as inp:
        for frame in inp.decode(audio=0):
            frame.pts = None
            for resampled in resampler.resample(frame):
                data = resampled.to_ndarray().tobytes()
                chunks.append(data)
                size += len(data)
            if size >= limit:
                break
    return b"".join(chunks)[:limit]


def wav_header(data_bytes: int) -> bytes:
    """A 44-byte RIFF header for 16 kHz mono s16le PCM."""
    byte_rate = SAMPLE_RATE * 2
    return b"".join(
        (
            b"RIFF",
            (36 + data_bytes).to_bytes(4, "little"),
            b"WAVEfmt ",
            (16).to_bytes(4, "little"),
            (1).to_bytes(2, "little"),  # PCM
            (1).to_bytes(2, "little"),  # mono
            SAMPLE_RATE.to_bytes(4, "little"),
            byte_rate.to_bytes(4, "little"),
            (2).to_bytes(2, "little"),  # block align
            (16).to_bytes(2, "little"),  # bits per sample
            b"data",
            data_bytes.to_bytes(4, "little"),
        )
    )


def write_big_wav(destination: Path, total_bytes: int, speech: bytes, chunk: int = 8 * MIB) -> int:
    """A WAV of about `total_bytes`: `speech` repeated, written 8 MiB at a time."""
    data_bytes = (total_bytes - 44) // 2 * 2
    if data_bytes >= 2**32 - 36:
        raise BenchError("a WAV file cannot hold 4 GiB or more")
    block = (speech * (chunk // len(speech) + 1))[:chunk]
    with destination.open("wb") as out:
        out.write(wav_header(data_bytes))
        left = data_bytes
        while left > 0:
            out.write(block[: min(left, len(block))])
            left -= min(left, len(block))
    return destination.stat().st_size


class MultipartFile:
    """A multipart/form-data body with one `file` part, read from disk as it is sent."""

    def __init__(self, path: Path, filename: str, chunk: int = 8 * MIB) -> None:
        self.path = path
        self.chunk = chunk
        self.boundary = f"speakr-bench-{secrets.token_hex(12)}"
        self.head = (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: audio/wav\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.sent_at: float | None = None

    @property
    def headers(self) -> dict[str, str]:
        length = len(self.head) + self.path.stat().st_size + len(self.tail)
        return {
            "Content-Type": f"multipart/form-data; boundary={self.boundary}",
            "Content-Length": str(length),
        }

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        with self.path.open("rb") as handle:
            while data := handle.read(self.chunk):
                yield data
        yield self.tail
        self.sent_at = time.perf_counter()  # runs once the tail has been written


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`python -m speakr serve` in `workdir`, with Speakr's own settings taken only from `env`."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        inherited = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
        self.workdir = workdir
        self.env = {**inherited, **env}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> Server:
        command = [sys.executable, "-m", "speakr", "serve", "--host", "127.0.0.1"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port)],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"the server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise BenchError(f"the server was not healthy after {timeout:g} s")

    @property
    def pid(self) -> int:
        if self.process is None:
            raise BenchError("the server is not running")
        return self.process.pid

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def login(client: httpx.Client, username: str, password: str) -> httpx.Client:
    """Give `client` a fresh API token."""
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    if response.status_code != 200:
        raise BenchError(f"POST /api/v1/auth/token -> {response.status_code}: {response.text}")
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client


def recording(client: httpx.Client, recording_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/recordings/{recording_id}")
    if response.status_code != 200:
        raise BenchError(
            f"GET /api/v1/recordings/{recording_id} -> {response.status_code}: {response.text}"
        )
    data: dict[str, Any] = response.json()
    return data


# --- measuring ------------------------------------------------------------------------------


class RssSampler:
    """Samples the summed RSS of a process and its children on a background thread."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        total = 0
        for proc in [self.process, *self.process.children(recursive=True)]:
            try:
                total += int(proc.memory_info().rss)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.rss())
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(self.rss())

    @property
    def peak(self) -> int:
        return max(self.samples)


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level Levenshtein distance over the reference's length."""
    ref, hyp = words(reference), words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i]
        for j, hyp_word in enumerate(hyp, start=1):
            substitution = previous[j - 1] + (ref_word != hyp_word)
            current.append(min(previous[j] + 1, current[j - 1] + 1, substitution))
        previous = current
    return previous[-1] / len(ref)
