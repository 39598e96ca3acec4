"""B5: remix render speed. A 60 s 720p captioned take rendered by Stage's worker (PyAV) and by an
``ffmpeg`` command line doing the same encode (drawtext caption, libx264 same preset and CRF, AAC),
side by side in one run. Speed = seconds of output per second of wall time.

    .venv/bin/python bench/render_speed.py [--seconds 60] [--runs 1] [--preset veryfast]

Writes bench/results/render.json and appends a dated section to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av  # noqa: E402

from bench.harness import machine, save  # noqa: E402
from stage.remix.plan import Clip, Plan  # noqa: E402
from stage.remix.render import render  # noqa: E402
from stage.remix.text import BOLD, FONT_DIR  # noqa: E402

CAPTION = ("Tell no one about this cape. It only flies on Tuesdays, and only when nobody is looking. "
           "My grandmother wore it to the bakery once and came back with the moon.")


def make_source(path: Path, seconds: int) -> None:
    """A 720p30 H.264 + AAC take like a rig's: moving test pattern and a tone (not timed)."""
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size=1280x720:rate=30:duration={seconds}", "-f", "lavfi", "-i",
                    f"sine=frequency=440:duration={seconds}:sample_rate=48000", "-c:v", "libx264", "-preset",
                    "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", "-shortest", str(path)],
                   check=True)


def stage_render(source: Path, out: Path, seconds: int, preset: str) -> float:
    plan = Plan(recipe="captioned-take", preset=preset,
                segments=(Clip(path=source, start=0, end=seconds, caption=CAPTION),))
    began = time.perf_counter()
    render(plan, out)
    return time.perf_counter() - began


def ffmpeg_render(source: Path, out: Path, caption_file: Path, preset: str) -> float:
    draw = (f"drawtext=fontfile={FONT_DIR / BOLD}:textfile={caption_file}:fontsize=36:fontcolor=white:"
            "box=1:boxcolor=black@0.6:boxborderw=12:x=(w-text_w)/2:y=h-text_h-60")
    began = time.perf_counter()
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(source), "-vf", draw, "-c:v", "libx264",
                    "-preset", preset, "-crf", "23", "-pix_fmt", "yuv420p", "-r", "30", "-c:a", "aac", "-b:a", "128k",
                    "-ar", "48000", "-ac", "2", "-movflags", "+faststart", str(out)], check=True)
    return time.perf_counter() - began


def duration(path: Path) -> float:
    with av.open(str(path)) as container:
        return container.duration / av.time_base


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--preset", default="veryfast")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="stage-bench-") as tmp:
        work = Path(tmp)
        source = work / "take.mp4"
        make_source(source, options.seconds)
        caption_file = work / "caption.txt"
        caption_file.write_text(CAPTION[:60])  # drawtext has no wrapping: one line, as long as a caption page
        tools = (("stage (PyAV worker)", lambda o: stage_render(source, o, options.seconds, options.preset)),
                 ("ffmpeg CLI (drawtext)", lambda o: ffmpeg_render(source, o, caption_file, options.preset)))
        for run in range(options.runs):  # alternate so both see the same machine load
            for name, fn in tools:
                out = work / f"out-{run}-{len(rows)}.mp4"
                wall = fn(out)
                rows.append({"tool": name, "run": run, "wall_s": round(wall, 2), "output_s": round(duration(out), 2),
                             "speed_x": round(duration(out) / wall, 2)})
                print(f"{name:<24} run {run}: {rows[-1]['output_s']:.1f} s of video in {wall:.1f} s "
                      f"= {rows[-1]['speed_x']:.2f}x real time", flush=True)
    best = {t: max(r["speed_x"] for r in rows if r["tool"] == t) for t in {r["tool"] for r in rows}}
    stage_x, ffmpeg_x = best["stage (PyAV worker)"], best["ffmpeg CLI (drawtext)"]
    ratio = ffmpeg_x / stage_x
    table = "\n".join(f"| {r['tool']} | {r['run']} | {r['output_s']:.1f} s | {r['wall_s']:.1f} s "
                      f"| {r['speed_x']:.2f}x |" for r in rows)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    verdict = (f"Goals: at least 4x real time: {'met' if stage_x >= 4 else 'NOT met'} (best {stage_x:.2f}x); "
               f"within 1.5x of ffmpeg: {'met' if ratio <= 1.5 else 'NOT met'} "
               f"(ffmpeg best {ffmpeg_x:.2f}x, ffmpeg/stage {ratio:.2f}). Load average at the end: {load}.")
    command = (f".venv/bin/python bench/render_speed.py --seconds {options.seconds} --runs {options.runs} "
               f"--preset {options.preset}")
    markdown = f"""## B5 remix render speed ({date.today()})

Machine: {machine()}. Command: `{command}`.
A {options.seconds} s 1280x720 30 fps H.264 + AAC take rendered as a captioned take (story paged as burned-in
captions) by Stage's renderer, and by `ffmpeg -vf drawtext -c:v libx264 -preset {options.preset} -crf 23 -c:a aac`
on the same file, alternating in one run on a shared machine (other engineers' work was running).

| tool | run | output | wall | speed |
|---|---:|---:|---:|---:|
{table}

{verdict}
"""
    print(markdown)
    save("render", {"rows": rows, "stage_x": stage_x, "ffmpeg_x": ffmpeg_x, "ffmpeg_over_stage": round(ratio, 2),
                    "seconds": options.seconds, "preset": options.preset}, markdown)


if __name__ == "__main__":
    main()
