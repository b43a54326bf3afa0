"""A real Speakr server in a subprocess on a free loopback port, and a small API client."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

TERMINAL_STATUSES = {"completed", "failed"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """`speakr serve` (or another subcommand) started in `workdir` with `env` added."""

    def __init__(
        self, workdir: Path, env: Mapping[str, str], *, args: tuple[str, ...] = ()
    ) -> None:
        self.workdir = workdir
        self.env = {**os.environ, **env}
        self.args = args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> LiveServer:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "speakr",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *self.args,
            ],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not become healthy:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no clean-up, as when a machine loses power."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self, token: str | None = None) -> ApiClient:
        return ApiClient(self.url, token)


class ApiClient:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=60)

    def login(self, username: str, password: str) -> ApiClient:
        response = self.http.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        response.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        return self

    def upload(self, path: Path, **fields: str) -> httpx.Response:
        with path.open("rb") as handle:
            return self.http.post(
                "/api/v1/recordings", files={"file": (path.name, handle)}, data=fields
            )

    def recording(self, recording_id: int) -> dict[str, Any]:
        response = self.http.get(f"/api/v1/recordings/{recording_id}")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def wait_for(
        self, recording_id: int, statuses: set[str] = TERMINAL_STATUSES, timeout: float = 180
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self.recording(recording_id)
            if data["status"] in statuses:
                return data
            time.sleep(0.3)
        raise TimeoutError(f"recording {recording_id} still {data['status']} after {timeout}s")
