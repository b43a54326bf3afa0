"""Listing recordings: newest first, search, status filter and pages."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.helpers.databases import ADMIN


def token_headers(client: TestClient) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/token", data={"username": ADMIN["username"], "password": ADMIN["password"]}
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def upload(client: TestClient, headers: dict[str, str], path: Path, title: str) -> int:
    with path.open("rb") as handle:
        response = client.post(
            "/api/v1/recordings",
            headers=headers,
            files={"file": (path.name, handle)},
            data={"title": title},
        )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_recordings_are_listed_newest_first_and_can_be_searched_and_paged(
    client: TestClient, speech_mp3: Path
) -> None:
    headers = token_headers(client)
    ids = [upload(client, headers, speech_mp3, f"Weekly sync {n}") for n in range(3)]
    ids.append(upload(client, headers, speech_mp3, "Budget review"))

    listing = client.get("/api/v1/recordings", headers=headers).json()
    assert listing["total"] == 4
    assert [item["id"] for item in listing["items"]] == list(reversed(ids))

    found = client.get("/api/v1/recordings", headers=headers, params={"q": "budget"}).json()
    assert [item["title"] for item in found["items"]] == ["Budget review"]

    queued = client.get("/api/v1/recordings", headers=headers, params={"status": "queued"}).json()
    assert queued["total"] == 4
    none = client.get("/api/v1/recordings", headers=headers, params={"status": "completed"})
    assert none.json() == {"items": [], "total": 0}

    page_two = client.get(
        "/api/v1/recordings", headers=headers, params={"per_page": 3, "page": 2}
    ).json()
    assert page_two["total"] == 4
    assert [item["id"] for item in page_two["items"]] == [ids[0]]


def test_an_unknown_status_filter_is_a_clear_400(client: TestClient) -> None:
    response = client.get(
        "/api/v1/recordings", headers=token_headers(client), params={"status": "done"}
    )
    assert response.status_code == 400
    assert "Unknown status 'done'" in response.json()["detail"]


def test_reprocess_refuses_a_prompt_it_would_ignore(client: TestClient, speech_mp3: Path) -> None:
    headers = token_headers(client)
    recording_id = upload(client, headers, speech_mp3, "Standup")
    response = client.post(
        f"/api/v1/recordings/{recording_id}/reprocess",
        headers=headers,
        json={"what": "transcription", "prompt": "Use British spelling"},
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "A prompt applies only to reprocessing the summary."
