"""The key in a display's URL: derived from the data directory's secret, so it survives restarts."""

from __future__ import annotations

import hashlib
import hmac


def display_key(secret: bytes, name: str) -> str:
    return hmac.new(secret, f"display:{name}".encode(), hashlib.sha256).hexdigest()[:24]


def kiosk_command(url: str) -> str:
    """Chromium full screen with no browser UI, sound allowed without a click, no crash bubbles."""
    flags = ["--kiosk", "--autoplay-policy=no-user-gesture-required", "--noerrdialogs", "--disable-infobars",
             "--no-first-run", "--disable-session-crashed-bubble", "--disable-translate",
             "--check-for-update-interval=31536000", "--overscroll-history-navigation=0"]
    return "chromium " + " ".join(flags) + f" '{url}'"
