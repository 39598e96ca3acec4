"""A phone that loses Wi-Fi keeps its story in the outbox and sends it once, when it is back."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import expect

from tests.peers import go


def test_story_written_offline_is_sent_once_when_the_phone_is_back(stage, pages, peers):
    host = peers.host()
    go(host), go(host)  # join scene, open the prompt
    phone = pages.phone("Pixel 7")
    phone.goto(f"{stage.url}/")
    phone.fill("#name", "Offline Ola")
    phone.click("#join-form button")
    expect(phone.locator("#prompt-text")).to_contain_text("cape")

    phone.context.set_offline(True)
    expect(phone.locator("#conn")).to_have_attribute("data-state", "offline", timeout=30_000)
    phone.fill("#story", "Written in the basement, no signal.")
    phone.click("#send")
    item = phone.locator(".mine-item").first
    expect(item).to_have_attribute("data-status", "waiting")

    phone.context.set_offline(False)
    expect(item).to_have_attribute("data-status", "pending", timeout=30_000)
    with sqlite3.connect(stage.data_dir / "stage.db") as db:
        assert db.execute("SELECT text FROM records").fetchall() == [("Written in the basement, no signal.",)]
    phone.reload()
    expect(phone.locator(".mine-item")).to_have_count(1)
    assert phone.evaluate("localStorage.getItem('stage.outbox')") == "[]"
