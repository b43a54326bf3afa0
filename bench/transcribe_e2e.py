"""End-to-end benchmarks of a real Speakr server.

A. Transcription overhead: faster-whisper called directly vs. the same file through the server
   (upload, queue, pipeline, poll until completed), same model and settings.
B. Upload memory: stream a ~1 GiB WAV to the server and sample the server's RSS meanwhile.

Run: python bench/transcribe_e2e.py [--minutes 10] [--upload-gb 1.0] [--skip-upload]
     [--skip-transcribe] [--repeat N] [--json out.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from _common import (
    MIB,
    BenchError,
    MultipartFile,
    RssSampler,
    Server,
    audio_seconds,
    encode_mp3,
    espeak,
    login,
    pcm16k,
    recording,
    speech_mp3,
    spoken_text_path,
    word_error_rate,
    words,
    write_big_wav,
)
from rich.console import Console
from rich.table import Table

USERNAME, PASSWORD = "bench", "bench-password-1"
TARGET_RATIO = 1.25  # server wall time / direct faster-whisper time
TARGET_PEAK_RSS_MIB = 300  # server RSS while a big file uploads
# The server (windows cut at pauses) must be as accurate as the direct call, give or take.
SANITY_WER_MARGIN = 0.02
POLL_SECONDS = 0.25
WARM_UP_TEXT = "This short clip loads the model before we measure."

console = Console()


@dataclass(frozen=True)
class DirectRun:
    seconds: float
    audio_seconds: float
    text: str


@dataclass(frozen=True)
class ServerRun:
    seconds: float  # upload start until GET says completed
    upload_seconds: float  # until the 201
    queue_seconds: float  # 201 until the status left `queued` (poll resolution)
    text: str


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=10, help="speech length for part A")
    parser.add_argument("--upload-gb", type=float, default=1.0, help="upload size (GiB), part B")
    parser.add_argument("--skip-upload", action="store_true", help="skip part B")
    parser.add_argument("--skip-transcribe", action="store_true", help="skip part A")
    parser.add_argument("--repeat", type=int, default=1, help="runs of part A; medians reported")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "speakr-bench-cache",
        help="where the generated speech is kept between runs",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not 0 < args.upload_gb < 4:
        parser.error("--upload-gb must be above 0 and below 4 (a WAV file's limit)")
    return args


def server_env(upload_bytes: int) -> dict[str, str]:
    return {
        "ADMIN_USERNAME": USERNAME,
        "ADMIN_PASSWORD": PASSWORD,
        "ADMIN_EMAIL": "bench@example.com",
        "LOCAL_WHISPER_THREADS": str(os.cpu_count() or 1),
        "LOCAL_WHISPER_COMPUTE_TYPE": "int8",
        "LOCAL_WHISPER_DEVICE": "cpu",
        "LOG_LEVEL": "WARNING",
        "MAX_UPLOAD_MB": str(max(2048, upload_bytes // MIB + 16)),
    }


# --- A. transcription overhead --------------------------------------------------------------


def load_model() -> tuple[Any, float]:
    from faster_whisper import WhisperModel

    from speakr.transcription.engines.local import resolve_model

    started = time.perf_counter()
    model = WhisperModel(
        resolve_model("tiny.en"),
        device="cpu",
        compute_type="int8",
        cpu_threads=os.cpu_count() or 1,
    )
    return model, time.perf_counter() - started


def transcribe_direct(model: Any, audio: Path) -> DirectRun:
    started = time.perf_counter()
    segments, info = model.transcribe(str(audio), beam_size=5)
    text = " ".join(segment.text.strip() for segment in segments)
    return DirectRun(time.perf_counter() - started, float(info.duration), text)


def upload(client: httpx.Client, audio: Path) -> int:
    with audio.open("rb") as handle:
        response = client.post("/api/v1/recordings", files={"file": (audio.name, handle)})
    if response.status_code != 201:
        raise BenchError(f"POST /api/v1/recordings -> {response.status_code}: {response.text}")
    return int(response.json()["id"])


def wait_completed(
    client: httpx.Client, recording_id: int, timeout: float
) -> tuple[dict[str, Any], float]:
    """Poll until completed; returns the recording and when it left `queued`."""
    deadline = time.perf_counter() + timeout
    picked_up: float | None = None
    while True:
        data = recording(client, recording_id)
        now = time.perf_counter()
        if picked_up is None and data["status"] != "queued":
            picked_up = now
        if data["status"] == "completed":
            return data, picked_up or now
        if data["status"] == "failed":
            raise BenchError(f"recording {recording_id} failed: {data.get('error')}")
        if now > deadline:
            raise BenchError(f"recording {recording_id} still {data['status']} after {timeout} s")
        time.sleep(POLL_SECONDS)


def transcribe_server(client: httpx.Client, audio: Path, timeout: float) -> ServerRun:
    started = time.perf_counter()
    recording_id = upload(client, audio)
    uploaded = time.perf_counter()
    data, picked_up = wait_completed(client, recording_id, timeout)
    finished = time.perf_counter()
    text = (data.get("transcript") or {}).get("text") or ""
    return ServerRun(finished - started, uploaded - started, picked_up - uploaded, text)


def warm_server(client: httpx.Client, workdir: Path) -> float:
    """Transcribe a ~3 s clip so the server's model is loaded before we measure."""
    clip = encode_mp3(espeak(WARM_UP_TEXT, workdir / "warm.wav"), workdir / "warm-up.mp3")
    return transcribe_server(client, clip, timeout=300).seconds


def bench_transcription(
    args: argparse.Namespace, client: httpx.Client, workdir: Path
) -> dict[str, Any]:
    speech = speech_mp3(args.minutes, args.cache_dir)
    seconds = audio_seconds(speech)
    console.print(f"[bold]A. Transcription[/bold]: {speech} ({seconds / 60:.1f} min)")
    console.print(f"  server warm-up (3 s clip): {warm_server(client, workdir):.2f} s")
    model, load_seconds = load_model()
    console.print(f"  direct model load: {load_seconds:.2f} s")
    direct_runs: list[DirectRun] = []
    server_runs: list[ServerRun] = []
    for index in range(1, args.repeat + 1):
        direct = transcribe_direct(model, speech)
        direct_runs.append(direct)
        console.print(
            f"  run {index}: direct {direct.seconds:.2f} s (RTF {direct.seconds / seconds:.3f})"
        )
        served = transcribe_server(client, speech, timeout=max(600, 3 * seconds))
        server_runs.append(served)
        console.print(
            f"  run {index}: server {served.seconds:.2f} s (upload {served.upload_seconds:.2f} s,"
            f" queue ≤ {served.queue_seconds:.2f} s), ratio {served.seconds / direct.seconds:.3f}"
        )
    del model
    gc.collect()
    return transcription_numbers(speech, seconds, load_seconds, direct_runs, server_runs)


def transcription_numbers(
    speech: Path,
    seconds: float,
    load_seconds: float,
    direct: list[DirectRun],
    server: list[ServerRun],
) -> dict[str, Any]:
    direct_s = statistics.median(run.seconds for run in direct)
    server_s = statistics.median(run.seconds for run in server)
    reference, hypothesis = direct[-1].text, server[-1].text
    ratio = server_s / direct_s
    spoken = spoken_text_path(speech).read_text()
    return {
        "audio_seconds": round(seconds, 2),
        "model_load_seconds": round(load_seconds, 3),
        "direct_seconds": round(direct_s, 3),
        "direct_runs": [round(run.seconds, 3) for run in direct],
        "direct_rtf": round(direct_s / seconds, 4),
        "server_seconds": round(server_s, 3),
        "server_runs": [round(run.seconds, 3) for run in server],
        "server_upload_seconds": [round(run.upload_seconds, 3) for run in server],
        "server_queue_seconds": [round(run.queue_seconds, 3) for run in server],
        "server_rtf": round(server_s / seconds, 4),
        "ratio": round(ratio, 4),
        "ratio_target": TARGET_RATIO,
        "ratio_met": ratio <= TARGET_RATIO,
        "direct_words": len(words(reference)),
        "server_words": len(words(hypothesis)),
        "wer_server_vs_direct": round(word_error_rate(reference, hypothesis), 4),
        "wer_direct_vs_spoken": round(word_error_rate(spoken, reference), 4),
        "wer_server_vs_spoken": round(word_error_rate(spoken, hypothesis), 4),
    }


# --- B. upload memory -----------------------------------------------------------------------


def make_big_wav(args: argparse.Namespace, workdir: Path) -> Path:
    started = time.perf_counter()
    speech = pcm16k(speech_mp3(args.minutes, args.cache_dir))
    path = workdir / "big.wav"
    size = write_big_wav(path, int(args.upload_gb * 1024**3), speech)
    took = time.perf_counter() - started
    console.print(f"  generated {path} ({size / MIB:.0f} MiB) in {took:.1f} s")
    return path


def stream_upload(client: httpx.Client, server: Server, path: Path) -> dict[str, Any]:
    body = MultipartFile(path, "big.wav")
    with RssSampler(server.pid) as before:
        time.sleep(1)
    with RssSampler(server.pid) as during:
        started = time.perf_counter()
        response = client.post(
            "/api/v1/recordings",
            content=iter(body),
            headers=body.headers,
            timeout=httpx.Timeout(1800, connect=10),
        )
        finished = time.perf_counter()
    if response.status_code != 201:
        raise BenchError(f"POST /api/v1/recordings -> {response.status_code}: {response.text}")
    sent = (body.sent_at or finished) - started
    return {
        "id": int(response.json()["id"]),
        "seconds": finished - started,
        "sent_seconds": sent,
        "baseline": statistics.median(before.samples),
        "peak": during.peak,
        "samples": len(during.samples),
    }


def delete_recording(client: httpx.Client, server: Server, recording_id: int) -> int:
    """DELETE, then the peak RSS over the next 5 s (does the server let go of the work?)."""
    with RssSampler(server.pid) as after:
        response = client.delete(f"/api/v1/recordings/{recording_id}")
        if response.status_code != 204:
            raise BenchError(
                f"DELETE /api/v1/recordings/{recording_id} -> {response.status_code}:"
                f" {response.text}"
            )
        time.sleep(5)
    return after.peak


def bench_upload(
    args: argparse.Namespace, client: httpx.Client, server: Server, workdir: Path
) -> dict[str, Any]:
    console.print(f"[bold]B. Upload memory[/bold]: {args.upload_gb:g} GiB WAV")
    path = make_big_wav(args, workdir)
    size = path.stat().st_size
    try:
        measured = stream_upload(client, server, path)
        after_delete = delete_recording(client, server, measured["id"])
    finally:
        path.unlink(missing_ok=True)
    peak_mib = measured["peak"] / MIB
    numbers = {
        "bytes": size,
        "seconds": round(measured["seconds"], 3),
        "body_sent_seconds": round(measured["sent_seconds"], 3),
        "mib_per_second": round(size / MIB / measured["seconds"], 1),
        "baseline_rss_mib": round(measured["baseline"] / MIB, 1),
        "peak_rss_mib": round(peak_mib, 1),
        "growth_mib": round((measured["peak"] - measured["baseline"]) / MIB, 1),
        "peak_rss_target_mib": TARGET_PEAK_RSS_MIB,
        "peak_rss_met": peak_mib < TARGET_PEAK_RSS_MIB,
        "rss_samples": measured["samples"],
        "peak_rss_5s_after_delete_mib": round(after_delete / MIB, 1),
    }
    console.print(
        f"  upload {numbers['seconds']} s ({numbers['mib_per_second']} MiB/s);"
        f" RSS baseline {numbers['baseline_rss_mib']} MiB, peak {numbers['peak_rss_mib']} MiB"
    )
    return numbers


# --- report ---------------------------------------------------------------------------------


def met(flag: bool) -> str:  # noqa: FBT001
    return "[green]yes[/green]" if flag else "[red]NO[/red]"


def summary_table(results: dict[str, Any]) -> Table:
    loads = (results["load_average_at_start"][0], results["load_average_at_end"][0])
    table = Table(
        title=f"Speakr end-to-end benchmark ({os.cpu_count()} CPUs)",
        caption=f"1-minute load average: {loads[0]} at start, {loads[1]} at end",
    )
    for column in ("Benchmark", "Measure", "Value", "Target", "Met"):
        table.add_column(column)
    if a := results.get("transcription"):
        wer = a["wer_server_vs_direct"]
        table.add_row("A", "audio", f"{a['audio_seconds'] / 60:.1f} min", "", "")
        table.add_row("A", "model load (direct)", f"{a['model_load_seconds']:.2f} s", "", "")
        table.add_row("A", "direct", f"{a['direct_seconds']:.2f} s (RTF {a['direct_rtf']})", "", "")
        table.add_row("A", "server", f"{a['server_seconds']:.2f} s (RTF {a['server_rtf']})", "", "")
        table.add_row("A", "server / direct", f"{a['ratio']:.3f}", "≤ 1.25", met(a["ratio_met"]))
        table.add_row("A", "words direct / server", f"{a['direct_words']} / {a['server_words']}")
        spoken_direct, spoken_server = a["wer_direct_vs_spoken"], a["wer_server_vs_spoken"]
        table.add_row(
            "A",
            "WER vs spoken text, direct / server",
            f"{spoken_direct:.2%} / {spoken_server:.2%}",
            "server ≤ direct + 2 pt",
            met(spoken_server <= spoken_direct + SANITY_WER_MARGIN),
        )
        table.add_row("A", "WER server vs direct (agreement)", f"{wer:.2%}", "", "")
    if b := results.get("upload"):
        table.add_row("B", "upload size", f"{b['bytes'] / MIB:.0f} MiB", "", "")
        table.add_row("B", "throughput", f"{b['mib_per_second']} MiB/s", "", "")
        table.add_row("B", "server RSS before", f"{b['baseline_rss_mib']} MiB", "", "")
        target = f"< {b['peak_rss_target_mib']} MiB"
        table.add_row(
            "B", "server RSS peak", f"{b['peak_rss_mib']} MiB", target, met(b["peak_rss_met"])
        )
        table.add_row("B", "server RSS growth", f"{b['growth_mib']} MiB")
        table.add_row("B", "RSS 5 s after DELETE", f"{b['peak_rss_5s_after_delete_mib']} MiB")
    return table


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
        "args": {"minutes": args.minutes, "upload_gb": args.upload_gb, "repeat": args.repeat},
    }
    if (load := os.getloadavg()[0]) > 0.5:
        console.print(
            f"[yellow]note:[/yellow] 1-minute load average {load:.2f}; timings will be noisy"
        )
    (workdir / "server").mkdir()
    server = Server(workdir / "server", server_env(int(args.upload_gb * 1024**3)))
    try:
        server.start()
        with httpx.Client(base_url=server.url, timeout=httpx.Timeout(60, connect=10)) as client:
            login(client, USERNAME, PASSWORD)
            if not args.skip_transcribe:
                results["transcription"] = bench_transcription(args, client, workdir)
            if not args.skip_upload:
                results["upload"] = bench_upload(args, client, server, workdir)
    except (BenchError, httpx.HTTPError) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        console.print(f"--- last lines of the server log ---\n{server.log_tail()}")
        raise
    finally:
        server.stop()
    results["load_average_at_end"] = [round(load, 2) for load in os.getloadavg()]
    return results


def interrupt(signum: int, frame: object) -> None:  # noqa: ARG001
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in background
    signal.signal(signal.SIGTERM, interrupt)  # `kill` stops the server too
    workdir = Path(tempfile.mkdtemp(prefix="speakr-bench-"))
    try:
        results = run(args, workdir)
    except (BenchError, httpx.HTTPError):
        return 1
    except KeyboardInterrupt:
        console.print("[yellow]interrupted; the server was stopped[/yellow]")
        return 130
    finally:
        if args.keep:
            console.print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    console.print(summary_table(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        console.print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
