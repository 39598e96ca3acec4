"""Debian's chromium driven by Playwright (never `playwright install`: no browser downloads here), for every test
that looks at a page: one browser per test process, shared by tests/browser and the few elsewhere (two
`sync_playwright()` in one process refuse to start: "Sync API inside the asyncio loop")."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

CHROMIUM = os.environ.get("STAGE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-quic", "--disable-default-apps", "--disable-extensions", "--mute-audio"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    yield browser
    browser.close()


class Pages:
    """Opens pages in their own contexts and collects every console error and page error."""

    def __init__(self, playwright: Playwright, browser: Browser) -> None:
        self.playwright = playwright
        self.browser = browser
        self.contexts = []
        self.errors: list[str] = []

    def _watch(self, page: Page, label: str) -> Page:
        # With the URL: "Failed to load resource" alone does not say which one (a draft's 404 took a CI run to find).
        page.on("console", lambda m: m.type == "error" and self.errors.append(
            f"{label}: {m.text}" + (f" ({m.location['url']})" if m.location.get("url") else "")))
        page.on("pageerror", lambda e: self.errors.append(f"{label}: {e}"))
        return page

    def phone(self, device: str = "iPhone 13", locale: str | None = None) -> Page:
        profile = dict(self.playwright.devices[device])
        profile.pop("default_browser_type", None)
        if locale:  # the browser's language: its Accept-Language and navigator.language
            profile["locale"] = locale
        context = self.browser.new_context(**profile)
        self.contexts.append(context)
        return self._watch(context.new_page(), "phone")

    def desktop(self, label: str, width: int = 1440, height: int = 900) -> Page:
        context = self.browser.new_context(viewport={"width": width, "height": height})
        self.contexts.append(context)
        return self._watch(context.new_page(), label)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(playwright: Playwright, browser: Browser) -> Iterator[Pages]:
    opened = Pages(playwright, browser)
    yield opened
    opened.close()


@pytest.fixture
def shot():
    """Save a screenshot under test-artifacts/ (open them: they are what a person would see)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page: Page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), animations="disabled")

    return take
