"""DMX out in a process of its own: ``python -m stage.dmx.child``, started by :class:`stage.dmx.process.DmxProcess`.

Why a process: in the server the frame loop waits for whatever holds the interpreter, and under the night's load
that is long (bench/dmx_jitter.py: a 40 Hz refresh's interval p99 went 15.8 ms off its 25 ms period with 500 phones
connected; a full GC at 2,000 phones stops the process 256-437 ms). Here the same loop has its own interpreter, GIL
and collector, and sleeps with ``time.sleep``.

The server's mixer stays the one that counts (the engine, takeovers and the console read it); this process keeps a
copy that it is sent whole after every change, with fades as "so far into it" (``elapsed``) on CLOCK_MONOTONIC,
which is one clock for every process on a machine. Lines of JSON:

- in, on stdin: ``{"config": {dmx, base, cid, source_name, dry_run}}`` first, then ``{"levels": <Mixer.state>,
  "at": <monotonic>, "grand_master": 0-100}`` after every change; end of input (or ``{"stop": true}``) ends it,
  after sACN's Stream_Terminated frames.
- out, on stdout: ``{"status": <DmxOutput.status>}`` when a node's status changes, ``{"stats": ...}`` every few
  seconds, ``{"log": message, "level": n}`` for its log lines (the server writes them to its log).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from stage.dmx.mixer import Mixer, aged
from stage.dmx.output import DmxOutput
from stage.dmx.patch import build_patch
from stage.show.dmx import DmxSection

STATS_SECONDS = 5.0
# Measured (bench/dmx_jitter.py, 2,000 phones, the server and this process on one core): at normal priority the
# kernel let the busy server run up to 3.6 ms past a frame's due time (jitter p99 3.5 ms); a real-time slot is
# woken at once. The loop uses ~1 % of a core, and Linux keeps 5 % of every second for other tasks anyway.
RT_PRIORITY = 10
_write_lock = threading.Lock()


def send(message: dict[str, Any]) -> None:
    line = json.dumps(message, separators=(",", ":")) + "\n"
    with _write_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


class _ToParent(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            send({"log": self.format(record), "level": record.levelno})
        except (OSError, ValueError):  # the server is gone: nobody to tell
            pass


class Source:
    """The frames DMX out sends, from this process's copy of the server's mixer."""

    def __init__(self, mixer: Mixer) -> None:
        self.mixer = mixer
        self.grand_master = 1.0

    def frame(self, universe: int, now: float) -> bytes:
        return self.mixer.frame(universe, now, self.grand_master)

    def changing(self, universe: int, now: float) -> bool:
        return self.mixer.changing(universe, now)


def prefer_the_cpu() -> str:
    """Ask for a real-time slot, else a higher priority (each needs the right: root, CAP_SYS_NICE or systemd's
    CPUSchedulingPolicy=); say what it got. STAGE_DMX_REALTIME=0 keeps the normal priority (the benchmark's
    comparison)."""
    if os.environ.get("STAGE_DMX_REALTIME") == "0":
        return "normal priority (STAGE_DMX_REALTIME=0)"
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(RT_PRIORITY))
        return f"real-time priority {RT_PRIORITY} (SCHED_FIFO)"
    except (OSError, AttributeError):
        pass
    try:
        return f"nice {os.nice(-10)}"
    except OSError:
        return "normal priority (no right to a real-time slot: frames may wait for a busy server, docs/dmx.md)"


def main() -> int:
    handler = _ToParent()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    # The server ends this process by closing its input (after Stream_Terminated goes out), also when the server
    # dies. A signal to the whole group or cgroup (Ctrl-C, systemctl stop) must not cut that short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return run()
    except Exception as exc:  # said to the server's log (and the console), not lost on a stderr nobody reads
        logging.getLogger(__name__).error("DMX out failed: %s", exc, exc_info=True)
        return 1


def run() -> int:
    logging.getLogger(__name__).info("frame loop at %s", prefer_the_cpu())
    first = sys.stdin.readline()
    if not first:
        return 0
    config = json.loads(first)["config"]
    dmx = DmxSection.model_validate(config["dmx"])
    source = Source(Mixer(build_patch(dmx, Path(config["base"]))))
    output = DmxOutput(dmx.nodes, rate=dmx.rate, source=source, cid=bytes.fromhex(config["cid"]),
                       default_source_name=config["source_name"], dry_run=bool(config["dry_run"]),
                       on_status=lambda status: send({"status": status}))
    gc.collect()
    gc.freeze()  # what was built so far is never garbage: the collector's passes stay short (its pauses are jitter)
    try:
        for index, line in enumerate(sys.stdin):
            message = json.loads(line)
            if message.get("stop"):
                break
            if "levels" in message:
                now = time.monotonic()
                # Fades go on from where the server's are: ``elapsed`` was measured at ``at``; this is later.
                levels = aged(message["levels"], max(0.0, now - float(message["at"])))
                source.mixer.restore(levels, now, hold=False)
                source.grand_master = float(message.get("grand_master", 100)) / 100
                output.poke()
            if index == 0:  # the levels the room sees come with the config: the first frame already has them
                output.start()
                threading.Thread(target=_stats, args=(output,), daemon=True).start()
                send({"status": output.status()})
    except (ValueError, KeyError, TypeError) as exc:
        logging.getLogger(__name__).error("DMX out: a message from the server did not read (%s); stopping", exc)
        output.close()
        return 1
    output.close()
    return 0


def _stats(output: DmxOutput) -> None:
    while True:
        time.sleep(STATS_SECONDS)
        try:
            send({"stats": output.stats()})
        except (OSError, ValueError):
            return


if __name__ == "__main__":
    sys.exit(main())
