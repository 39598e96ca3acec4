"""What a disconnect costs in python-socketio's client manager, upstream's and Stage's indexed one, side by side.

Phones as `stage serve` holds them: each in its own sid room, its participant's room and the wall room, on
/audience. Then every phone leaves (the end of a show, or a Wi-Fi blip), one disconnect at a time, as
python-socketio does it. Both managers in one run, alternating, best of --repeat.

    .venv/bin/python bench/manager_disconnect.py [--phones 1000,5000] [--repeat 3] [--no-record]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import socketio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import machine, record_or_print  # noqa: E402
from stage.realtime.manager import IndexedManager  # noqa: E402


def fill(manager: socketio.Manager, phones: int) -> None:
    for i in range(phones):
        sid = f"sid-{i}"
        manager.basic_enter_room(sid, "/audience", None, eio_sid=f"eio-{i}")
        manager.basic_enter_room(sid, "/audience", sid)
        manager.basic_enter_room(sid, "/audience", f"participant:{i}")
        manager.basic_enter_room(sid, "/audience", "wall")


def all_leave(manager: socketio.Manager, phones: int) -> float:
    fill(manager, phones)
    began = time.perf_counter()
    for i in range(phones):
        manager.basic_disconnect(f"sid-{i}", "/audience")
    took = time.perf_counter() - began
    assert not manager.rooms.get("/audience")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", default="1000,5000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-record", action="store_true", help="a trial: print, write no results or docs")
    args = parser.parse_args()
    rows, figures = [], {}
    for phones in (int(n) for n in args.phones.split(",")):
        best = {"upstream": float("inf"), "indexed": float("inf")}
        for _ in range(args.repeat):
            best["upstream"] = min(best["upstream"], all_leave(socketio.Manager(), phones))
            best["indexed"] = min(best["indexed"], all_leave(IndexedManager(), phones))
        figures[phones] = best
        rows.append(f"| {phones} | {best['upstream'] * 1000:.1f} | {best['upstream'] / phones * 1e6:.1f} | "
                    f"{best['indexed'] * 1000:.1f} | {best['indexed'] / phones * 1e6:.1f} | "
                    f"{best['upstream'] / best['indexed']:.0f}x |")
        print(rows[-1])
    when = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
    command = f"`.venv/bin/python bench/manager_disconnect.py --phones {args.phones} --repeat {args.repeat}`"
    record_or_print(not args.no_record, "manager_disconnect", {"command": command, "figures": figures}, f"""
## Every phone leaving: python-socketio's manager and Stage's indexed one ({when})

Machine: {machine()}. Command: {command}. Each phone in its sid room, its participant's room and the wall
room on /audience; then all of them disconnect one by one. Best of {args.repeat}, both managers in one run.

| phones | upstream: all leave, ms | upstream µs per disconnect | indexed: all leave, ms | indexed µs per disconnect \
| ratio |
|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}
""")


if __name__ == "__main__":
    main()
