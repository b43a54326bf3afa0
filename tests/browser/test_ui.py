"""The web UI in Debian's Chromium, driven by Playwright against the real server: log in,
upload, watch progress, read the transcript, seek by clicking a segment."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.helpers.databases import ADMIN
from tests.helpers.server import LiveServer
from tests.test_end_to_end import server_env

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path, server_env(f"sqlite:///{tmp_path / 'ui.db'}")).start()
    yield live
    live.stop()


@pytest.fixture
def problems() -> list[str]:
    """Script errors and failed loads the page reports; a test removes the ones it expects."""
    return []


@pytest.fixture
def page(browser: Browser, server: LiveServer, problems: list[str]) -> Iterator[Page]:
    context = browser.new_context(base_url=server.url)
    opened = context.new_page()
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    opened.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    yield opened
    context.close()
    # Content-Security-Policy violations and script errors show up here.
    assert problems == []


def log_in(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_url("/login?next=/")
    page.fill("input[name=username]", ADMIN["username"])
    page.fill("input[name=password]", ADMIN["password"])
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Recordings", exact=True)).to_be_visible()


def test_upload_watch_progress_and_read_the_transcript(page: Page, speech_mp3: Path) -> None:
    log_in(page)
    page.goto("/upload")
    page.set_input_files("input[type=file]", str(speech_mp3))
    open_link = page.get_by_role("link", name="Open recording")
    expect(open_link).to_be_visible(timeout=30_000)

    page.goto("/")
    card = page.locator("[data-recording-id]").first
    expect(card).to_contain_text("planning meeting")
    # Live progress: the badge turns to Completed without a reload.
    expect(card).to_contain_text("Completed", timeout=60_000)

    card.get_by_role("link").first.click()
    segments = page.locator("#transcript .seg")
    expect(segments.first).to_contain_text("Good morning")
    assert segments.count() >= 2

    second = segments.nth(1)
    start = float(second.get_attribute("data-start") or "nan")
    second.locator(".seg-time").click()
    page.wait_for_function(
        "start => Math.abs(document.querySelector('audio').currentTime - start) < 1.5", arg=start
    )


def test_a_wrong_password_shows_a_message(page: Page, problems: list[str]) -> None:
    page.goto("/login")
    page.fill("input[name=username]", ADMIN["username"])
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("Incorrect username or password")
    # The re-shown form answers 401, which Chromium reports as a failed load.
    problems.remove(
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    )
