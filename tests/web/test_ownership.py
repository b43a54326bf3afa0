"""A recording belongs to its uploader: to anyone else it does not exist (404, never 403), and
nothing they try changes it. Its owner can do everything; nobody anonymous can do anything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import HTML, Media, Site, assert_sentence, unique_name, upload


@dataclass(frozen=True)
class People:
    owner: TestClient
    intruder: TestClient
    owner_browser: TestClient
    intruder_browser: TestClient


@pytest.fixture(scope="module")
def people(site: Site) -> People:
    owner, intruder = site.add_user(unique_name("alice")), site.add_user(unique_name("bob"))
    return People(
        owner=site.api(owner),
        intruder=site.api(intruder),
        owner_browser=site.browser(owner),
        intruder_browser=site.browser(intruder),
    )


@pytest.fixture
def recording(people: People, media: Media) -> dict[str, Any]:
    response = upload(people.owner, media.audio("mp3"), title=unique_name("Quarterly review"))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# Everything the API offers on one recording: (method, suffix, request arguments).
ATTEMPTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "read": ("GET", "", {}),
    "edit": ("PATCH", "", {"json": {"title": "Mine now", "notes": "taken"}}),
    "delete": ("DELETE", "", {}),
    "audio": ("GET", "/audio", {}),
    "export": ("GET", "/export?format=txt", {}),
    "reprocess": ("POST", "/reprocess", {"json": {"what": "transcription"}}),
}
NO_SUCH_ID = 2_000_000_000


# --- Someone else --------------------------------------------------------------------------


@pytest.mark.parametrize("attempt", list(ATTEMPTS))
def test_someone_elses_recording_is_404_to_every_api_route(
    site: Site, people: People, media: Media, recording: dict[str, Any], attempt: str
) -> None:
    method, suffix, arguments = ATTEMPTS[attempt]
    stored = site.stored_file(recording["id"])
    before = people.owner.get(f"/api/v1/recordings/{recording['id']}").json()

    response = people.intruder.request(
        method, f"/api/v1/recordings/{recording['id']}{suffix}", **arguments
    )
    missing = people.intruder.request(
        method, f"/api/v1/recordings/{NO_SUCH_ID}{suffix}", **arguments
    )

    assert response.status_code == 404, response.text
    assert response.json() == missing.json()  # indistinguishable from a recording that is not
    assert_sentence(response.json()["detail"])
    after = people.owner.get(f"/api/v1/recordings/{recording['id']}")
    assert after.status_code == 200
    assert after.json() == before
    assert stored.read_bytes() == media.audio("mp3").read_bytes()


def test_someone_elses_recording_page_is_404(people: People, recording: dict[str, Any]) -> None:
    response = people.intruder_browser.get(f"/recordings/{recording['id']}")

    assert response.status_code == 404
    assert recording["title"] not in response.text
    assert "text/html" in response.headers["content-type"]
    assert people.owner_browser.get(f"/recordings/{recording['id']}").status_code == 200


def test_someone_elses_recording_is_not_listed_or_found(
    people: People, recording: dict[str, Any]
) -> None:
    listed = people.intruder.get("/api/v1/recordings").json()
    searched = people.intruder.get("/api/v1/recordings", params={"q": recording["title"]}).json()
    gallery = people.intruder_browser.get("/")

    assert recording["id"] not in [item["id"] for item in listed["items"]]
    assert searched == {"items": [], "total": 0}
    assert recording["title"] not in gallery.text
    own = people.owner.get("/api/v1/recordings", params={"q": recording["title"]}).json()
    assert [item["id"] for item in own["items"]] == [recording["id"]]


# --- The owner -----------------------------------------------------------------------------


def test_the_owner_can_read_and_edit_their_recording(
    people: People, recording: dict[str, Any]
) -> None:
    path = f"/api/v1/recordings/{recording['id']}"

    edited = people.owner.patch(path, json={"title": "Board meeting", "notes": "Follow up"})

    assert edited.status_code == 200, edited.text
    fetched = people.owner.get(path).json()
    assert (fetched["title"], fetched["notes"]) == ("Board meeting", "Follow up")
    assert fetched["status"] == "queued"
    assert fetched["transcript"] is None
    page = people.owner_browser.get(f"/recordings/{recording['id']}")
    assert page.status_code == 200
    assert "Board meeting" in page.text


def test_the_owner_gets_the_audio_with_range_support(
    site: Site, people: People, recording: dict[str, Any]
) -> None:
    path = f"/api/v1/recordings/{recording['id']}/audio"
    original = site.stored_file(recording["id"]).read_bytes()

    whole = people.owner.get(path)
    part = people.owner.get(path, headers={"Range": "bytes=0-99"})

    assert whole.status_code == 200
    assert whole.content == original
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "audio/mpeg"
    assert part.status_code == 206
    assert part.content == original[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{len(original)}"


def test_exporting_before_transcription_says_there_is_no_transcript_yet(
    people: People, recording: dict[str, Any]
) -> None:
    response = people.owner.get(f"/api/v1/recordings/{recording['id']}/export?format=txt")

    assert response.status_code == 400
    assert "no transcript" in assert_sentence(response.json()["detail"]).lower()


def test_the_owner_can_queue_their_recording_again(
    people: People, recording: dict[str, Any]
) -> None:
    response = people.owner.post(
        f"/api/v1/recordings/{recording['id']}/reprocess", json={"what": "transcription"}
    )

    assert response.status_code == 202, response.text
    assert response.json()["id"] == recording["id"]
    assert response.json()["status"] == "queued"


def test_deleting_removes_the_row_and_the_files(
    site: Site, people: People, recording: dict[str, Any]
) -> None:
    folder = site.stored_file(recording["id"]).parent
    assert folder.is_dir()

    response = people.owner.delete(f"/api/v1/recordings/{recording['id']}")

    assert response.status_code == 204
    assert site.recording_row(recording["id"]) is None
    assert not folder.exists()
    assert people.owner.get(f"/api/v1/recordings/{recording['id']}").status_code == 404
    listed = people.owner.get("/api/v1/recordings").json()["items"]
    assert recording["id"] not in [item["id"] for item in listed]


# --- Nobody --------------------------------------------------------------------------------


@pytest.mark.parametrize("credentials", ["none", "an unknown token"])
def test_the_api_answers_401_json_without_valid_credentials(
    site: Site, people: People, recording: dict[str, Any], credentials: str
) -> None:
    headers = dict(HTML)
    if credentials == "an unknown token":
        headers["Authorization"] = "Bearer spk_not-a-real-token"
    anonymous = site.client(headers=headers)
    base = f"/api/v1/recordings/{recording['id']}"
    attempts = [
        ("GET", "/api/v1/recordings"),
        ("POST", "/api/v1/recordings"),
        ("GET", "/api/v1/auth/tokens"),
        ("GET", "/api/v1/events"),
    ]
    attempts += [(method, base + suffix) for method, suffix, _ in ATTEMPTS.values()]

    for method, path in attempts:
        response = anonymous.request(method, path)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"] == "application/json", (method, path)
        assert response.headers["www-authenticate"] == "Bearer", (method, path)
        assert_sentence(response.json()["detail"])
    assert people.owner.get(base).json()["title"] == recording["title"]


@pytest.mark.parametrize("number", [2**31, 2**63], ids=["past int32", "past int64"])
def test_an_id_beyond_the_databases_range_is_404_not_a_server_error(
    site: Site, people: People, number: int
) -> None:
    careful = site.client(headers=dict(people.owner.headers), raise_server_exceptions=False)

    recording = careful.get(f"/api/v1/recordings/{number}")
    token = careful.delete(f"/api/v1/auth/tokens/{number}")

    assert (recording.status_code, token.status_code) == (404, 404), (recording.text, token.text)
    assert_sentence(recording.json()["detail"])
