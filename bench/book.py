"""The night's book at size: seconds per page and peak memory of ``stage book`` for a 100-page book.

    .venv/bin/python bench/book.py [--pages 100] [--runs 1] [--no-record]

A synthetic night in a SQLite store, made through the store API (tests/book/nights.py: phones join, stories and
drawings are submitted and approved, drawings are 1080x1080 PNGs through the phone ingest), a book of
``--pages`` pages (a story with a drawing each; one page in ten a long story across a spread, one in ten a
story alone), then the command a person types, ``stage book --progress json``, in a child process: wall time,
the time of each step (from the JSON lines), and the child's peak RSS (``os.wait4``: that process's own
rusage, the whole render from Python's start to its exit). Building the night is not timed. Writes
bench/results/book.json and appends a section to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import machine, record_or_print  # noqa: E402
from tests.book.nights import StoreNight, drawing_png  # noqa: E402

WORDS = ("the cape flew over the roofs of the town and came back at dawn smelling of rain and applause "
         "while the baker counted the stars that fell into his flour").split()


def story(n: int, length: int) -> str:
    words, i = [], n
    while len(" ".join(words)) < length:
        words.append(WORDS[i % len(WORDS)])
        i += 7
    return f"Night {n}: " + " ".join(words).capitalize() + "."


def build(data: Path, pages: int) -> None:
    night = StoreNight(data)
    try:
        book = []
        for n in range(pages):
            name = f"Phone {n % 60}"
            long = n % 10 == 7
            text = story(n, 1800 if long else 60 + (n * 37) % 500)
            record = night.story(name, text)
            alone = n % 10 == 3
            drawing = None if alone else night.picture(f"Artist {n % 40}", drawing_png((1080, 1080), seed=n),
                                                       source=record)
            book.append((record, drawing))
        night.book(*book, title="A hundred capes", foreword="Every page of this book was made tonight.")
    finally:
        night.close()


def render(data: Path, out: Path) -> dict:
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "stage", "book", "--data", str(data), "--out", str(out),
                             "--force", "--progress", "json"], stdout=subprocess.PIPE, text=True)
    steps: dict[str, float] = {}
    last, previous_stage, previous_at, done = None, None, began, None
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        now = time.perf_counter()
        if event["stage"] != previous_stage:
            if previous_stage is not None:
                steps[previous_stage] = steps.get(previous_stage, 0.0) + now - previous_at
            previous_stage, previous_at = event["stage"], now
        last = event
        if event["stage"] == "done":
            done = event
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage: its peak RSS, not the largest child's
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - began
    if code != 0 or done is None:
        raise SystemExit(f"stage book failed (exit {code}); last line: {last}")
    peak = usage.ru_maxrss  # KiB on Linux
    return {"wall_s": round(wall, 2), "printed_pages": done["pages"], "peak_rss_mb": round(peak / 1024, 1),
            "steps_s": {k: round(v, 2) for k, v in steps.items()}, "pdf_mb": round(out.stat().st_size / 2**20, 1),
            "html_mb": round(out.with_suffix(".html").stat().st_size / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--no-record", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stage-bench-book-") as tmp:
        data = Path(tmp) / "data"
        built = time.perf_counter()
        build(data, options.pages)
        print(f"night of {options.pages} book pages built in {time.perf_counter() - built:.1f} s (not timed)",
              flush=True)
        runs = []
        for run in range(options.runs):
            runs.append(render(data, Path(tmp) / "book.pdf"))
            r = runs[-1]
            print(f"run {run}: {r['printed_pages']} printed pages in {r['wall_s']:.1f} s = "
                  f"{r['wall_s'] / options.pages:.2f} s per book page, {r['wall_s'] / r['printed_pages']:.2f} s "
                  f"per printed page; peak RSS {r['peak_rss_mb']:.0f} MB; steps {r['steps_s']}", flush=True)
    best = min(runs, key=lambda r: r["wall_s"])
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    table = "\n".join(
        f"| {n} | {r['wall_s']:.1f} s | {r['printed_pages']} | {r['wall_s'] / options.pages:.2f} s | "
        f"{r['wall_s'] / r['printed_pages']:.2f} s | {r['peak_rss_mb']:.0f} MB | "
        f"{', '.join(f'{k} {v:.1f} s' for k, v in r['steps_s'].items())} | {r['pdf_mb']} / {r['html_mb']} MB |"
        for n, r in enumerate(runs))
    command = f".venv/bin/python bench/book.py --pages {options.pages} --runs {options.runs}"
    stamp = datetime.now(timezone.utc).strftime("%H:%M UTC")
    markdown = f"""## The night's book: {options.pages} pages with `stage book` ({date.today()} {stamp})

Machine: {machine()}. Command: `{command}`. Load average at the end: {load}.
A synthetic night in SQLite through the store API: {options.pages} book pages, each a story (60 to 560
characters; one in ten 1,800, set across a spread) with a 1080x1080 phone drawing (one in ten a story
alone). Timed: `stage book --progress json` in a child process, from start to exit (snapshot, pictures, typesetting
with WeasyPrint, the PDF, the HTML edition with its pictures as data: URIs, the share statement).

| run | wall | printed pages | per book page | per printed page | peak RSS | steps | PDF / HTML |
|---|---:|---:|---:|---:|---:|---|---:|
{table}

Best: **{best['wall_s'] / best['printed_pages']:.2f} s per printed page**
({best['wall_s'] / options.pages:.2f} s per book page), peak RSS **{best['peak_rss_mb']:.0f} MB**.
"""
    record_or_print(not options.no_record, "book", {"pages": options.pages, "runs": runs}, markdown)


if __name__ == "__main__":
    main()
