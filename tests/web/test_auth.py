"""Log-in by password, API tokens, browser sessions with CSRF, throttling, registration, the
admin from settings, and the security headers and escaping every page relies on."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from speakr.app import create_app
from speakr.settings import Settings
from tests.helpers.databases import ADMIN, BACKENDS
from tests.web.conftest import (
    HTML,
    PASSWORD,
    Media,
    Site,
    assert_sentence,
    running_app,
    set_cookie,
    unique_name,
    upload,
)


@pytest.fixture(scope="module", params=BACKENDS)
def open_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    with running_app(request.param, tmp_path_factory, ALLOW_REGISTRATION=True) as running:
        yield running


def request_token(client: TestClient, username: str, password: str, name: str = "") -> dict:
    data = {"username": username, "password": password, **({"name": name} if name else {})}
    response = client.post("/api/v1/auth/token", data=data)
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def password_hash(site: Site, username: str) -> str:
    with site.runtime.sessions() as db:
        found = db.scalar(
            text("SELECT password_hash FROM users WHERE username = :u"), {"u": username}
        )
    assert found is not None
    return str(found)


def login_form(browser: TestClient, username: str, password: str, **extra: str) -> httpx.Response:
    if "speakr_csrf" not in browser.cookies:
        browser.get("/login")
    data = {
        "username": username,
        "password": password,
        "csrf_token": browser.cookies["speakr_csrf"],
        **extra,
    }
    return browser.post("/login", data=data)


# --- API tokens ----------------------------------------------------------------------------


def test_a_token_from_the_right_password_opens_the_api(site: Site) -> None:
    username = site.add_user()
    client = site.client()

    body = request_token(client, username, PASSWORD)

    assert body["token_type"] == "bearer"
    response = client.get("/api/v1/recordings", headers=bearer(body["access_token"]))
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "total": 0}


@pytest.mark.parametrize("who", ["known user", "unknown user"])
def test_a_wrong_password_gets_401_with_a_reason(site: Site, who: str) -> None:
    username = site.add_user() if who == "known user" else unique_name("nobody")

    response = site.client().post(
        "/api/v1/auth/token", data={"username": username, "password": "not-the-password"}
    )

    assert response.status_code == 401
    assert "incorrect" in assert_sentence(response.json()["detail"]).lower()
    assert "access_token" not in response.text


def test_api_tokens_are_stored_only_as_hashes(site: Site) -> None:
    body = request_token(site.client(), site.add_user(), PASSWORD)
    secret = body["access_token"]

    with site.runtime.sessions() as db:
        row = db.execute(text("SELECT * FROM api_tokens WHERE id = :id"), {"id": body["id"]}).one()

    assert row.token_hash != secret
    assert len(row.token_hash) >= 32
    assert not any(secret in str(value) for value in row)


def test_a_revoked_token_is_refused(site: Site) -> None:
    username = site.add_user()
    client = site.client()
    doomed = request_token(client, username, PASSWORD, name="laptop")
    keeper = request_token(client, username, PASSWORD, name="server")

    revoked = client.delete(
        f"/api/v1/auth/tokens/{doomed['id']}", headers=bearer(keeper["access_token"])
    )

    assert revoked.status_code == 204, revoked.text
    refused = client.get("/api/v1/recordings", headers=bearer(doomed["access_token"]))
    assert refused.status_code == 401
    assert_sentence(refused.json()["detail"])
    listed = client.get("/api/v1/auth/tokens", headers=bearer(keeper["access_token"])).json()
    assert [token["id"] for token in listed] == [keeper["id"]]


def test_a_user_cannot_revoke_someone_elses_token(site: Site) -> None:
    client = site.client()
    victim = request_token(client, site.add_user(), PASSWORD)
    intruder = request_token(client, site.add_user(), PASSWORD)

    response = client.delete(
        f"/api/v1/auth/tokens/{victim['id']}", headers=bearer(intruder["access_token"])
    )

    assert response.status_code == 404
    works = client.get("/api/v1/recordings", headers=bearer(victim["access_token"]))
    assert works.status_code == 200


def test_the_token_list_shows_no_secrets(site: Site) -> None:
    username = site.add_user()
    client = site.client()
    first = request_token(client, username, PASSWORD, name="backup script")
    second = request_token(client, username, PASSWORD, name="phone")

    response = client.get("/api/v1/auth/tokens", headers=bearer(first["access_token"]))

    assert response.status_code == 200, response.text
    listed = {token["id"]: token for token in response.json()}
    assert set(listed) == {first["id"], second["id"]}
    assert listed[second["id"]]["name"] == "phone"
    assert all(
        set(token) == {"id", "name", "created_at", "last_used_at"} for token in listed.values()
    )
    with site.runtime.sessions() as db:
        hashes = db.scalars(text("SELECT token_hash FROM api_tokens")).all()
    for secret in [first["access_token"], second["access_token"], *hashes]:
        assert secret not in response.text


# --- Throttling ----------------------------------------------------------------------------


def test_the_api_refuses_even_the_right_password_after_too_many_failures(site: Site) -> None:
    username, bystander = site.add_user(), site.add_user()
    client = site.client()
    for _ in range(site.settings.LOGIN_MAX_FAILURES):
        wrong = client.post("/api/v1/auth/token", data={"username": username, "password": "x"})
        assert wrong.status_code == 401

    response = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})

    assert response.status_code == 429
    assert "too many" in assert_sentence(response.json()["detail"]).lower()
    assert "access_token" not in response.text
    request_token(client, bystander, PASSWORD)  # other names are not locked out


def test_the_login_form_refuses_even_the_right_password_after_too_many_failures(
    site: Site,
) -> None:
    username = site.add_user()
    browser = site.client(headers=HTML)
    for _ in range(site.settings.LOGIN_MAX_FAILURES):
        assert login_form(browser, username, "wrong-password").status_code == 401

    response = login_form(browser, username, PASSWORD)

    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.text
    assert set_cookie(response, "speakr_session") is None
    assert "speakr_session" not in browser.cookies


# --- Browser sessions and CSRF ---------------------------------------------------------------


def test_the_login_page_sets_a_strict_httponly_csrf_cookie(site: Site) -> None:
    response = site.client(headers=HTML).get("/login")

    assert response.status_code == 200
    cookie = set_cookie(response, "speakr_csrf")
    assert cookie is not None
    assert cookie["httponly"]
    assert cookie["samesite"].lower() == "strict"
    assert not cookie["secure"]
    assert len(cookie.value) >= 32
    assert f'name="csrf_token" value="{cookie.value}"' in response.text


def test_logging_in_sets_an_httponly_lax_session_cookie_without_secure_over_http(
    site: Site,
) -> None:
    browser = site.client(headers=HTML)

    response = login_form(browser, ADMIN["username"], ADMIN["password"])

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = set_cookie(response, "speakr_session")
    assert cookie is not None
    assert cookie["httponly"]
    assert cookie["samesite"].lower() == "lax"
    assert not cookie["secure"]
    assert browser.get("/").status_code == 200


def test_logging_in_behind_an_https_proxy_marks_the_session_cookie_secure(site: Site) -> None:
    browser = site.client(headers=HTML)
    browser.get("/login")
    data = {**ADMIN, "csrf_token": browser.cookies["speakr_csrf"]}

    response = browser.post("/login", data=data, headers={"X-Forwarded-Proto": "https"})

    assert response.status_code == 303
    cookie = set_cookie(response, "speakr_session")
    assert cookie is not None
    assert cookie["secure"]
    assert cookie["httponly"]
    assert cookie["samesite"].lower() == "lax"


@pytest.mark.parametrize("csrf", ["missing", "wrong", "another browser's"])
def test_the_login_form_refuses_a_missing_or_wrong_csrf_token(site: Site, csrf: str) -> None:
    browser = site.client(headers=HTML)
    browser.get("/login")
    data = {"username": ADMIN["username"], "password": ADMIN["password"]}
    if csrf == "wrong":
        data["csrf_token"] = "forged-" + "x" * 40
    elif csrf == "another browser's":
        other = site.client(headers=HTML)
        other.get("/login")
        data["csrf_token"] = other.cookies["speakr_csrf"]

    response = browser.post("/login", data=data)

    assert response.status_code == 403
    assert set_cookie(response, "speakr_session") is None
    assert "speakr_session" not in browser.cookies


def test_a_session_request_to_the_api_that_changes_state_needs_the_csrf_header(
    site: Site,
) -> None:
    username = site.add_user()
    browser = site.browser(username)
    token = request_token(site.client(), username, PASSWORD)
    path = f"/api/v1/auth/tokens/{token['id']}"

    refused = browser.delete(path)

    assert refused.status_code == 403
    assert_sentence(refused.json()["detail"])
    still = site.client().get("/api/v1/recordings", headers=bearer(token["access_token"]))
    assert still.status_code == 200
    accepted = browser.delete(path, headers={"X-CSRF-Token": browser.cookies["speakr_csrf"]})
    assert accepted.status_code == 204
    gone = site.client().get("/api/v1/recordings", headers=bearer(token["access_token"]))
    assert gone.status_code == 401


def test_a_session_upload_needs_the_csrf_header(site: Site, media: Media) -> None:
    browser = site.browser(site.add_user())
    files_before = site.files()

    refused = upload(browser, media.audio("mp3"))

    assert refused.status_code == 403
    assert site.files() == files_before
    browser.headers["X-CSRF-Token"] = browser.cookies["speakr_csrf"]
    accepted = upload(browser, media.audio("mp3"))
    assert accepted.status_code == 201, accepted.text


def test_a_bearer_token_request_needs_no_csrf_header(site: Site, media: Media) -> None:
    username = site.add_user()
    api = site.api(username)
    other = request_token(site.client(), username, PASSWORD)

    assert api.delete(f"/api/v1/auth/tokens/{other['id']}").status_code == 204
    assert upload(api, media.audio("mp3")).status_code == 201
    assert "speakr_session" not in api.cookies


def test_logging_out_ends_the_session(site: Site) -> None:
    browser = site.browser(site.add_user())
    replay = site.client(
        headers={**HTML, "Cookie": f"speakr_session={browser.cookies['speakr_session']}"}
    )
    assert replay.get("/").status_code == 200  # the copied cookie opens the gallery, until…

    response = browser.post("/logout", data={"csrf_token": browser.cookies["speakr_csrf"]})

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "speakr_session" not in browser.cookies
    page = replay.get("/")
    assert page.status_code == 303
    assert urlsplit(page.headers["location"]).path == "/login"
    assert replay.get("/api/v1/recordings").status_code == 401


def test_logging_out_needs_the_csrf_token(site: Site) -> None:
    browser = site.browser(site.add_user())

    response = browser.post("/logout", data={})

    assert response.status_code == 403
    assert browser.get("/").status_code == 200


# --- Redirects -----------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/", "/upload", "/recordings/7?tab=summary"])
def test_pages_without_a_session_redirect_to_login_with_next(site: Site, target: str) -> None:
    response = site.client(headers=HTML).get(target)

    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [target]


def test_logging_in_returns_to_the_page_asked_for(site: Site) -> None:
    browser = site.client(headers=HTML)

    response = login_form(browser, ADMIN["username"], ADMIN["password"], next="/upload")

    assert response.status_code == 303
    assert response.headers["location"] == "/upload"


@pytest.mark.parametrize(
    "target", ["//evil.com", "https://evil.com", "/\\evil.com", "http:evil.com", "evil.com"]
)
def test_next_never_redirects_to_another_site(site: Site, target: str) -> None:
    browser = site.client(headers=HTML)
    page = browser.get("/login", params={"next": target})
    assert 'name="next" value="/"' in page.text

    after_login = login_form(browser, ADMIN["username"], ADMIN["password"], next=target)
    already_in = browser.get("/login", params={"next": target})

    assert (after_login.status_code, after_login.headers["location"]) == (303, "/")
    assert (already_in.status_code, already_in.headers["location"]) == (303, "/")


@pytest.mark.parametrize("target", ["/\t/evil.com", "/\n/evil.com", "/%2F/evil.com"])
def test_next_with_hidden_characters_stays_on_this_site(site: Site, target: str) -> None:
    browser = site.client(headers=HTML)

    response = login_form(browser, ADMIN["username"], ADMIN["password"], next=target)

    assert response.status_code == 303
    location = response.headers["location"]
    # What a browser does with it: drop tabs and newlines, read '\\' as '/'.
    as_browser = re.sub(r"[\t\r\n]", "", location).replace("\\", "/")
    assert urlsplit(urljoin("http://testserver/login", as_browser)).netloc == "testserver"


# --- Registration --------------------------------------------------------------------------


def test_registration_is_not_found_when_it_is_closed(site: Site) -> None:
    browser = site.client(headers=HTML)
    browser.get("/login")
    username = unique_name()
    form = {
        "username": username,
        "email": f"{username}@example.com",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "csrf_token": browser.cookies["speakr_csrf"],
    }

    assert browser.get("/register").status_code == 404
    assert browser.post("/register", data=form).status_code == 404
    assert "speakr_session" not in browser.cookies
    refused = site.client().post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    assert refused.status_code == 401


def register(
    browser: TestClient, username: str, email: str, password: str, confirm: str
) -> httpx.Response:
    page = browser.get("/register")
    assert page.status_code == 200
    return browser.post(
        "/register",
        data={
            "username": username,
            "email": email,
            "password": password,
            "password_confirm": confirm,
            "csrf_token": browser.cookies["speakr_csrf"],
        },
    )


def test_a_visitor_can_register_when_registration_is_open(open_site: Site) -> None:
    browser = open_site.client(headers=HTML)
    username = unique_name("newcomer")

    response = register(browser, username, f"{username}@example.com", PASSWORD, PASSWORD)

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "speakr_session" in browser.cookies
    gallery = browser.get("/")
    assert gallery.status_code == 200
    assert username in gallery.text
    assert password_hash(open_site, username).startswith("$argon2")
    request_token(open_site.client(), username, PASSWORD)


def test_registering_a_taken_username_answers_409_with_a_message(open_site: Site) -> None:
    taken = open_site.add_user()
    browser = open_site.client(headers=HTML)

    for username in [taken, taken.upper()]:
        response = register(browser, username, "someone-else@example.com", PASSWORD, PASSWORD)

        assert response.status_code == 409, username
        assert "already registered" in response.text
        assert "speakr_session" not in browser.cookies


def test_registering_with_mismatched_passwords_answers_400_with_a_message(
    open_site: Site,
) -> None:
    browser = open_site.client(headers=HTML)
    username = unique_name()

    response = register(browser, username, f"{username}@example.com", PASSWORD, PASSWORD + "!")

    assert response.status_code == 400
    assert "do not match" in response.text
    assert "speakr_session" not in browser.cookies
    refused = open_site.client().post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    assert refused.status_code == 401


# --- The admin and stored passwords --------------------------------------------------------


def test_the_admin_from_settings_exists_after_start_up(site: Site) -> None:
    body = request_token(site.client(), ADMIN["username"], ADMIN["password"])

    assert body["access_token"]
    with site.runtime.sessions() as db:
        row = db.execute(
            text("SELECT email, is_admin FROM users WHERE username = :u"),
            {"u": ADMIN["username"]},
        ).one()
    assert row.email == ADMIN["email"]
    assert row.is_admin


def test_passwords_are_stored_as_argon2_hashes(site: Site) -> None:
    username = site.add_user()

    for name, password in [(username, PASSWORD), (ADMIN["username"], ADMIN["password"])]:
        stored = password_hash(site, name)
        assert stored.startswith("$argon2")
        assert password not in stored


def test_restarting_with_another_admin_password_keeps_the_stored_one(
    make_settings: Callable[..., Settings],
) -> None:
    with TestClient(create_app(make_settings(), run_worker=False)) as first:
        request_token(first, ADMIN["username"], ADMIN["password"])

    restarted = make_settings(ADMIN_PASSWORD="a-brand-new-password")
    with TestClient(create_app(restarted, run_worker=False)) as second:
        request_token(second, ADMIN["username"], ADMIN["password"])
        new = second.post(
            "/api/v1/auth/token",
            data={"username": ADMIN["username"], "password": "a-brand-new-password"},
        )
        assert new.status_code == 401
        with second.app.state.runtime.sessions() as db:  # type: ignore[attr-defined]
            admins = db.scalar(text("SELECT count(*) FROM users WHERE is_admin"))
        assert admins == 1


# --- Headers and escaping ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/health", "/api/v1/recordings", "/static/common.js"])
def test_responses_carry_the_security_headers(site: Site, path: str) -> None:
    response = site.client(headers=HTML).get(path)

    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_title_with_markup_is_escaped_on_the_pages(site: Site, media: Media) -> None:
    username = site.add_user()
    api, browser = site.api(username), site.browser(username)
    filename = "<img src=x onerror=alert(2)>.mp3"
    recording_id = upload(api, media.audio("mp3"), filename).json()["id"]
    title = "<script>alert(1)</script>"
    patched = api.patch(f"/api/v1/recordings/{recording_id}", json={"title": title})
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == title

    for path in ["/", f"/recordings/{recording_id}"]:
        page = browser.get(path)
        assert page.status_code == 200, path
        assert title not in page.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path
        assert "<img src=x" not in page.text, path
        assert "&lt;img src=x onerror=alert(2)&gt;.mp3" in page.text, path


def test_a_csrf_cookie_not_signed_by_this_server_is_refused(client: TestClient) -> None:
    forged = "attacker-chosen-nonce"
    client.cookies.set("speakr_csrf", forged)
    response = client.post(
        "/login",
        data={"username": ADMIN["username"], "password": ADMIN["password"], "csrf_token": forged},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "speakr_session" not in response.cookies
    # The server replaces the forged cookie with one it signed.
    assert response.cookies.get("speakr_csrf", "").count(".") == 1
