"""The API describes itself: OpenAPI at /openapi.json, an explorer at /docs, and /health."""

from __future__ import annotations

from fastapi.testclient import TestClient

V1_PATHS = {
    "/api/v1/auth/token",
    "/api/v1/recordings",
    "/api/v1/recordings/{recording_id}",
    "/api/v1/recordings/{recording_id}/reprocess",
    "/api/v1/recordings/{recording_id}/audio",
    "/api/v1/recordings/{recording_id}/export",
    "/api/v1/events",
    "/health",
}


def test_the_openapi_document_lists_the_v1_contract(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert set(document["paths"]) >= V1_PATHS
    upload = document["paths"]["/api/v1/recordings"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]


def test_the_docs_page_uses_the_bundled_swagger_ui(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    bundle = client.get("/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js")
    assert bundle.status_code == 200


def test_health_reports_database_queue_and_engine(client: TestClient) -> None:
    report = client.get("/health").json()
    assert report["status"] == "ok"
    assert report["db"] == "ok"
    assert report["queue"].startswith("ok")
    assert "tiny.en" in report["engine"]
