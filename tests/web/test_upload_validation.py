"""POST /api/v1/recordings: what is accepted (type read from content), and how bad input is
refused — a 4xx with a sentence, and neither a file nor a row left behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient

from speakr.app import create_app
from speakr.settings import Settings
from tests.helpers.databases import ADMIN
from tests.web.conftest import (
    AUDIO_FORMATS,
    MP4_DEMUXER,
    STORED_PATH,
    Media,
    Site,
    assert_sentence,
    upload,
)


@pytest.fixture(scope="module")
def admin_api(site: Site) -> TestClient:
    return site.api()


@contextmanager
def leaves_nothing_behind(site: Site, api: TestClient) -> Iterator[None]:
    """The block must not add a file under UPLOAD_FOLDER nor a recording, and the server
    must go on serving."""
    files, total = site.files(), site.total(api)
    yield
    assert site.files() == files
    assert site.total(api) == total
    site.assert_serving()


def assert_refused(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    detail = assert_sentence(response.json()["detail"])
    for word in words:
        assert word.lower() in detail.lower(), detail


def multipart(filename: bytes, content: bytes, boundary: str = "speakr-test-boundary") -> bytes:
    """A multipart body written by hand: HTTP clients refuse some names (NUL) we must test."""
    return b"".join(
        [
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n',
            b"Content-Type: audio/mpeg\r\n\r\n",
            content,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )


# --- Accepted ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(AUDIO_FORMATS))
def test_it_accepts_each_audio_format_and_keeps_the_original(
    site: Site, admin_api: TestClient, media: Media, name: str
) -> None:
    expected = AUDIO_FORMATS[name]
    original = media.audio(name)

    response = upload(admin_api, original, f"team meeting.{name}")

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["format"], body["codec"]) == (expected.reported_format, expected.reported_codec)
    assert body["status"] == "queued"
    assert body["original_filename"] == f"team meeting.{name}"
    assert body["duration"] == pytest.approx(15, abs=1)
    stored = site.stored_file(body["id"])
    match = STORED_PATH.match(stored.relative_to(site.upload_root).as_posix())
    assert match is not None, stored
    assert int(match["user"]) == site.user_id(ADMIN["username"])
    assert match["ext"] == expected.extension
    assert stored.read_bytes() == original.read_bytes()


def test_it_accepts_an_mp4_video_with_an_audio_track(
    site: Site, admin_api: TestClient, media: Media
) -> None:
    video = media.video(with_audio=True)

    response = upload(admin_api, video, "screen recording.mp4")

    assert response.status_code == 201, response.text
    assert (response.json()["format"], response.json()["codec"]) == (MP4_DEMUXER, "aac")
    stored = site.stored_file(response.json()["id"])
    assert stored.name == "original.mp4"
    assert stored.read_bytes() == video.read_bytes()


def test_it_reads_the_type_from_content_not_from_the_name(
    site: Site, admin_api: TestClient, media: Media
) -> None:
    response = upload(admin_api, media.audio("mp3"), "notes.txt")

    assert response.status_code == 201, response.text
    assert response.json()["format"] == "mp3"
    assert response.json()["original_filename"] == "notes.txt"
    assert site.stored_file(response.json()["id"]).name == "original.mp3"


def test_it_uses_the_title_given_with_the_upload(admin_api: TestClient, media: Media) -> None:
    response = upload(admin_api, media.audio("mp3"), title="  Budget review, week 12 ")

    assert response.status_code == 201, response.text
    assert response.json()["title"] == "Budget review, week 12"
    fetched = admin_api.get(f"/api/v1/recordings/{response.json()['id']}")
    assert fetched.json()["title"] == "Budget review, week 12"


def test_it_stores_language_speaker_range_and_tags(
    site: Site, admin_api: TestClient, media: Media
) -> None:
    response = upload(
        admin_api,
        media.audio("mp3"),
        language="DE",
        min_speakers="2",
        max_speakers="3",
        tags="budget, weekly ,",
    )

    assert response.status_code == 201, response.text
    assert response.json()["language"] == "de"
    assert sorted(response.json()["tags"]) == ["budget", "weekly"]
    row = site.recording_row(response.json()["id"])
    assert row is not None
    assert (row.min_speakers, row.max_speakers) == (2, 3)


# --- Refused: the content ------------------------------------------------------------------


def test_it_rejects_an_empty_file(site: Site, admin_api: TestClient) -> None:
    with leaves_nothing_behind(site, admin_api):
        response = upload(admin_api, b"", "empty.mp3")
    assert_refused(response, 400, "empty")


def test_it_rejects_a_text_file_renamed_mp3(site: Site, admin_api: TestClient) -> None:
    text = b"Agenda\n1. Budget\n2. Hiring plan\n3. Launch date\n" * 40
    with leaves_nothing_behind(site, admin_api):
        response = upload(admin_api, text, "agenda.mp3")
    assert_refused(response, 415, "audio")


def test_it_rejects_a_truncated_mp3(site: Site, admin_api: TestClient, media: Media) -> None:
    half = media.first_half("mp3")
    assert b"Info" in half[:200] or b"Xing" in half[:200]  # the header promising ~15 s
    with leaves_nothing_behind(site, admin_api):
        response = upload(admin_api, half, "cut.mp3")
    assert_refused(response, 422, "truncated")


def test_it_rejects_a_truncated_m4a(site: Site, admin_api: TestClient, media: Media) -> None:
    with leaves_nothing_behind(site, admin_api):
        response = upload(admin_api, media.first_half("m4a"), "cut.m4a")
    assert response.status_code in {415, 422}, response.text
    assert_sentence(response.json()["detail"])


def test_it_rejects_a_truncated_wav(site: Site, admin_api: TestClient, media: Media) -> None:
    with leaves_nothing_behind(site, admin_api):
        response = upload(admin_api, media.first_half("wav"), "cut.wav")
    assert_refused(response, 422, "truncated")


def test_it_rejects_a_video_without_an_audio_track(
    site: Site, admin_api: TestClient, media: Media
) -> None:
    with leaves_nothing_behind(site, admin_api):
        response = upload(admin_api, media.video(with_audio=False), "silent.mp4")
    assert_refused(response, 415, "no audio track")


# --- Refused: the name ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../etc/passwd.mp3", "..\\..\\boot.ini.mp3", "a/b.mp3"])
def test_it_rejects_a_file_name_containing_a_path(
    site: Site, admin_api: TestClient, media: Media, name: str
) -> None:
    with leaves_nothing_behind(site, admin_api):
        response = upload(admin_api, media.audio("mp3"), name)
    assert_refused(response, 400, "path")


def test_it_rejects_a_file_name_containing_a_nul_byte(
    site: Site, admin_api: TestClient, media: Media
) -> None:
    body = multipart(b"meeting\x00.mp3", media.audio("mp3").read_bytes())
    with leaves_nothing_behind(site, admin_api):
        response = admin_api.post(
            "/api/v1/recordings",
            content=body,
            headers={"Content-Type": "multipart/form-data; boundary=speakr-test-boundary"},
        )
    assert_refused(response, 400, "file name")


@pytest.mark.parametrize(
    ("name", "words"),
    [(b"", "no name"), (b"   ", "no name"), (b"\xff\xfe.mp3", "UTF-8")],
    ids=["empty", "blank", "not UTF-8"],
)
def test_it_rejects_a_file_name_that_is_missing_or_unreadable(
    site: Site, admin_api: TestClient, media: Media, name: bytes, words: str
) -> None:
    body = multipart(name, media.audio("mp3").read_bytes())
    with leaves_nothing_behind(site, admin_api):
        response = admin_api.post(
            "/api/v1/recordings",
            content=body,
            headers={"Content-Type": "multipart/form-data; boundary=speakr-test-boundary"},
        )
    assert_refused(response, 400, words)


def test_it_rejects_a_file_name_of_300_characters(
    site: Site, admin_api: TestClient, media: Media
) -> None:
    with leaves_nothing_behind(site, admin_api):
        response = upload(admin_api, media.audio("mp3"), "m" * 296 + ".mp3")
    assert_refused(response, 400, "255")


# --- Refused: the request ------------------------------------------------------------------


def test_it_rejects_a_form_without_a_file_field(site: Site, admin_api: TestClient) -> None:
    with leaves_nothing_behind(site, admin_api):
        response = admin_api.post("/api/v1/recordings", files={"title": (None, "Just a title")})
    assert_refused(response, 400, "'file'")


def test_it_rejects_two_files_in_one_request(
    site: Site, admin_api: TestClient, media: Media
) -> None:
    mp3 = media.audio("mp3").read_bytes()
    with leaves_nothing_behind(site, admin_api):
        response = admin_api.post(
            "/api/v1/recordings",
            files=[("file", ("first.mp3", mp3)), ("file", ("second.mp3", mp3))],
        )
    assert_refused(response, 400, "one file")


def test_it_rejects_a_body_that_is_not_multipart(site: Site, admin_api: TestClient) -> None:
    with leaves_nothing_behind(site, admin_api):
        response = admin_api.post("/api/v1/recordings", json={"file": "meeting.mp3"})
    assert_refused(response, 400, "multipart")


def test_it_rejects_an_unknown_language_value(
    site: Site, admin_api: TestClient, media: Media
) -> None:
    with leaves_nothing_behind(site, admin_api):
        response = upload(admin_api, media.audio("mp3"), language="not a language")
    assert_refused(response, 400, "language")


@pytest.mark.parametrize(
    "speakers",
    [{"min_speakers": "4", "max_speakers": "2"}, {"max_speakers": "three"}],
    ids=["minimum-above-maximum", "not-a-number"],
)
def test_it_rejects_bad_speaker_counts(
    site: Site, admin_api: TestClient, media: Media, speakers: dict[str, str]
) -> None:
    with leaves_nothing_behind(site, admin_api):
        response = upload(admin_api, media.audio("mp3"), **speakers)
    assert_refused(response, 400, "max_speakers")


def test_it_rejects_a_file_over_max_upload_mb(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(MAX_UPLOAD_MB=1)
    with TestClient(create_app(settings, run_worker=False)) as client:
        site = Site(client.app)  # type: ignore[arg-type]
        api = site.api()
        response = upload(api, b"\xff\xfb\x90\x64" * (512 * 1024), "long meeting.mp3")

        assert_refused(response, 413, "1 MB")
        assert site.files() == set()
        assert site.total(api) == 0
        site.assert_serving()
