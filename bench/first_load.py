"""What a phone downloads on first load (compressed, as Chromium reports it), per file, against the
60 KB budget of the audience issue.

    .venv/bin/python bench/first_load.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright
from rich.console import Console
from rich.table import Table

from harness import REPO, free_port, machine, save, start, stop

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
BUDGET = 60 * 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        server = start(["-m", "stage", "serve", str(REPO / "shows" / "tiny-stories.yaml"), "--data", str(tmp / "d"),
                        "--bind", "127.0.0.1", "--port", str(port)], f"http://127.0.0.1:{port}/healthz", tmp / "log")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                device = dict(p.devices["iPhone 13"])
                device.pop("default_browser_type", None)
                page = browser.new_context(**device).new_page()
                sizes: dict[str, tuple[int, int]] = {}
                page.on("requestfinished", lambda r: sizes.__setitem__(
                    r.url.split(str(port))[1], (r.sizes()["responseBodySize"], len(r.response().body()))))
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_load_state("networkidle")
                browser.close()
        finally:
            stop(server)
    total = sum(s[0] for s in sizes.values())
    table = Table(title="Phone first load (iPhone 13 emulation, Chromium)")
    for column in ("file", "on the wire (bytes)", "decoded (bytes)"):
        table.add_column(column, justify="right")
    for url, (wire, body) in sorted(sizes.items()):
        table.add_row(url, str(wire), str(body))
    table.add_row("total", str(total), str(sum(s[1] for s in sizes.values())))
    Console().print(table)
    rows = "\n".join(f"| `{url}` | {wire} | {body} |" for url, (wire, body) in sorted(sizes.items()))
    verdict = "met" if total <= BUDGET else "NOT met"
    save("first_load", {"total_bytes": total, "files": {u: s[0] for u, s in sizes.items()}}, f"""
## Phone first load ({time.strftime('%Y-%m-%d')})

Machine: {machine()}. Command: `.venv/bin/python bench/first_load.py`. What Chromium (iPhone 13
emulation) downloads for the join page, compressed by Flask-Compress (the browser offered zstd, br, gzip).

| file | on the wire (bytes) | decoded (bytes) |
|---|---:|---:|
{rows}
| **total** | **{total}** | {sum(s[1] for s in sizes.values())} |

Goal (≤ 60 KB = {BUDGET} bytes compressed): {verdict}.
""")


if __name__ == "__main__":
    main()
