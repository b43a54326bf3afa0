"""Live progress: the Server-Sent Events stream reports a recording's way to `completed`."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.databases import ADMIN
from tests.helpers.server import LiveServer
from tests.test_end_to_end import server_env

pytestmark = pytest.mark.slow


def test_the_event_stream_reports_progress_until_completed(
    tmp_path: Path, database_url: str, speech_mp3: Path
) -> None:
    server = LiveServer(tmp_path, server_env(database_url)).start()
    try:
        api = server.client().login(ADMIN["username"], ADMIN["password"])
        events: list[dict[str, Any]] = []
        connected = threading.Event()

        def listen() -> None:
            with api.http.stream("GET", "/api/v1/events", timeout=60) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                connected.set()
                event = ""
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event == "recording":
                        events.append(json.loads(line[6:]))
                        if events[-1]["status"] in {"completed", "failed"}:
                            return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert connected.wait(10)
        recording_id = api.upload(speech_mp3).json()["id"]
        listener.join(120)

        mine = [e for e in events if e["id"] == recording_id]
        assert mine, "no event arrived for the upload"
        assert mine[-1]["status"] == "completed"
        assert mine[-1]["progress"] == 1.0
        statuses = [e["status"] for e in mine]
        assert statuses.index("completed") == len(statuses) - 1
        assert set(statuses) <= {"queued", "processing", "summarizing", "completed"}
        # Without credentials there is no stream.
        anonymous = httpx.get(f"{server.url}/api/v1/events", timeout=5)
        assert anonymous.status_code == 401
    finally:
        server.stop()
