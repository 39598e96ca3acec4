"""What a person does on the phone page, shared by the browser tests."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def join(page: Page, url: str, name: str) -> None:
    page.goto(url)
    page.fill("#name", name)
    page.click("#join-form button")
    expect(page.locator("#me")).to_have_text(name)


def draw_a_line(page: Page) -> None:
    """One finger stroke across the canvas, corner to corner."""
    box = page.locator("#canvas").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 20, box["y"] + box["height"] - 20, steps=8)
    page.mouse.up()
