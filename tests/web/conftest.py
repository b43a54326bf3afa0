"""Web fixtures: test media made once per session, one running app per backend shared by a
test module (a fresh app costs ~0.5 s on SQLite and ~1 s on PostgreSQL), and `Site`, which
talks to a running app through independent clients the way browsers and scripts do."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import Morsel, SimpleCookie
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from speakr.app import create_app
from speakr.db import Recording
from speakr.services.users import create_user
from speakr.settings import Settings
from tests.helpers.audio import encode
from tests.helpers.databases import ADMIN, BACKENDS, build_settings, fresh_database

PASSWORD = "correct-horse-battery"
HTML = {"Accept": "text/html,application/xhtml+xml"}


# --- Media -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudioFormat:
    """An encoding PyAV can write, and what Speakr must report and store for it."""

    container: str
    codec: str
    rate: int
    bit_rate: int | None
    reported_format: str
    reported_codec: str
    extension: str


MP4_DEMUXER = "mov,mp4,m4a,3gp,3g2,mj2"
AUDIO_FORMATS = {
    "mp3": AudioFormat("mp3", "libmp3lame", 16000, 32000, "mp3", "mp3", "mp3"),
    "wav": AudioFormat("wav", "pcm_s16le", 16000, None, "wav", "pcm_s16le", "wav"),
    "m4a": AudioFormat("ipod", "aac", 16000, 32000, MP4_DEMUXER, "aac", "m4a"),
    "flac": AudioFormat("flac", "flac", 16000, None, "flac", "flac", "flac"),
    "ogg": AudioFormat("ogg", "libopus", 48000, 24000, "ogg", "opus", "ogg"),
    "webm": AudioFormat("webm", "libopus", 48000, 24000, "matroska,webm", "opus", "webm"),
    "wma": AudioFormat("asf", "wmav2", 16000, 32000, "asf", "wmav2", "wma"),
    "amr": AudioFormat("amr", "libopencore_amrnb", 8000, 12200, "amr", "amr_nb", "amr"),
}


def write_video(destination: Path, audio: Path | None, *, seconds: int = 1) -> Path:
    """A tiny MPEG-4 video (grey frames), with `audio` as an AAC track when given."""
    with av.open(str(destination), "w", format="mp4") as out:
        video = out.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = out.add_stream("aac", rate=16000) if audio else None
        if sound is not None:
            sound.layout = "mono"
        for index in range(seconds * 10):
            frame = av.VideoFrame(64, 48, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([index * 20 % 256]) * plane.buffer_size)
            frame.pts = index
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None and audio is not None:
            resampler = av.AudioResampler(format=sound.format.name, layout="mono", rate=16000)
            with av.open(str(audio)) as source:
                for decoded in source.decode(audio=0):
                    decoded.pts = None
                    for resampled in resampler.resample(decoded):
                        out.mux(sound.encode(resampled))
            out.mux(sound.encode(None))
    return destination


class Media:
    """Test files made on first use from the spoken WAV (~15 s) and kept for the session."""

    def __init__(self, folder: Path, speech_wav: Path, speech_mp3: Path) -> None:
        self.folder = folder
        self.speech_wav = speech_wav
        self.speech_mp3 = speech_mp3
        self._made: dict[str, Path] = {}

    def _once(self, key: str, make: Callable[[Path], Path]) -> Path:
        if key not in self._made:
            self._made[key] = make(self.folder / key)
        return self._made[key]

    def audio(self, name: str) -> Path:
        if name == "mp3":
            return self.speech_mp3
        spec = AUDIO_FORMATS[name]
        return self._once(
            f"speech.{name}",
            lambda path: encode(
                self.speech_wav,
                path,
                container=spec.container,
                codec=spec.codec,
                rate=spec.rate,
                bit_rate=spec.bit_rate,
            ),
        )

    def video(self, *, with_audio: bool) -> Path:
        name = "video-with-audio.mp4" if with_audio else "video-silent.mp4"
        return self._once(
            name, lambda path: write_video(path, self.speech_wav if with_audio else None)
        )

    def first_half(self, name: str) -> bytes:
        data = self.audio(name).read_bytes()
        return data[: len(data) // 2]


@pytest.fixture(scope="session")
def media(speech_dir: Path, speech_wav: Path, speech_mp3: Path) -> Media:
    folder = speech_dir / "web-media"
    folder.mkdir(exist_ok=True)
    return Media(folder, speech_wav, speech_mp3)


# --- A running app -------------------------------------------------------------------------


@contextmanager
def running_app(
    backend: str, tmp_path_factory: pytest.TempPathFactory, **overrides: Any
) -> Iterator[Site]:
    """The real app, started (migrations, admin) and without a worker, until the block ends."""
    folder = tmp_path_factory.mktemp(f"site-{backend}")
    with fresh_database(backend, folder) as url:
        app = create_app(build_settings(url, folder, **overrides), run_worker=False)
        with TestClient(app):
            yield Site(app)


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """One running app per backend for a whole module; tests keep to their own users."""
    with running_app(request.param, tmp_path_factory) as running:
        yield running


# --- Talking to it ---------------------------------------------------------------------------


def set_cookie(response: httpx.Response, name: str) -> Morsel[str] | None:
    """The `Set-Cookie` of `name` in a response, attributes included."""
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        if name in cookie:
            return cookie[name]
    return None


def assert_sentence(detail: object) -> str:
    """A message for a person: words, ending like a sentence, not a repr or a traceback."""
    assert isinstance(detail, str), detail
    assert len(detail.split()) >= 3, detail
    assert detail.rstrip().endswith((".", "!", "?")), detail
    assert "Traceback" not in detail, detail
    return detail


def unique_name(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Site:
    """A running app seen from outside: each client has its own cookies, like a browser."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.runtime = app.state.runtime
        self.settings: Settings = self.runtime.settings

    @property
    def upload_root(self) -> Path:
        return Path(self.runtime.upload_root)

    def client(self, **kwargs: Any) -> TestClient:
        return TestClient(self.app, follow_redirects=False, **kwargs)

    def add_user(self, username: str | None = None, password: str = PASSWORD) -> str:
        username = username or unique_name()
        with self.runtime.sessions() as db:
            create_user(db, username, f"{username}@example.com", password)
            db.commit()
        return username

    def token(self, username: str, password: str = PASSWORD) -> str:
        response = self.client().post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def api(self, username: str = ADMIN["username"], password: str | None = None) -> TestClient:
        """A script's client: a bearer token, no cookies."""
        secret = self.token(username, password or self._default_password(username))
        return self.client(headers={"Authorization": f"Bearer {secret}"})

    def browser(self, username: str = ADMIN["username"], password: str | None = None) -> TestClient:
        """A browser logged in through the /login form (CSRF cookie and field)."""
        browser = self.client(headers=HTML)
        assert browser.get("/login").status_code == 200
        response = browser.post(
            "/login",
            data={
                "username": username,
                "password": password or self._default_password(username),
                "csrf_token": browser.cookies["speakr_csrf"],
            },
        )
        assert response.status_code == 303, response.text
        assert "speakr_session" in browser.cookies
        return browser

    def _default_password(self, username: str) -> str:
        return ADMIN["password"] if username == ADMIN["username"] else PASSWORD

    def user_id(self, username: str) -> int:
        with self.runtime.sessions() as db:
            found = db.scalar(text("SELECT id FROM users WHERE username = :u"), {"u": username})
        assert found is not None
        return int(found)

    def recording_row(self, recording_id: int) -> Recording | None:
        with self.runtime.sessions() as db:
            row = db.get(Recording, recording_id)
            if row is not None:
                db.expunge(row)
            return row

    def stored_file(self, recording_id: int) -> Path:
        row = self.recording_row(recording_id)
        assert row is not None
        return self.upload_root / row.original_path

    def files(self) -> set[str]:
        """Every file under UPLOAD_FOLDER (empty folders do not count)."""
        return {
            path.relative_to(self.upload_root).as_posix()
            for path in self.upload_root.rglob("*")
            if not path.is_dir()
        }

    def total(self, api: TestClient) -> int:
        response = api.get("/api/v1/recordings")
        assert response.status_code == 200, response.text
        total: int = response.json()["total"]
        return total

    def assert_serving(self) -> None:
        assert self.client().get("/health").status_code == 200


def upload(
    api: TestClient, content: bytes | Path, filename: str | None = None, **fields: str
) -> httpx.Response:
    if isinstance(content, Path):
        filename = filename or content.name
        content = content.read_bytes()
    return api.post(
        "/api/v1/recordings",
        files={"file": (filename or "recording.mp3", content)},
        data=fields,
    )


STORED_PATH = re.compile(r"^(?P<user>\d+)/(?P<random>[0-9a-f]{32})/original\.(?P<ext>\w+)$")
