"""Issue 19: what HTTPS costs the server, side by side in one run: the night's load (`stage rehearse`: phones
held, stories, approvals, feed updates) against `stage serve` over plain HTTP and over TLS (WSS), the same
phones, the same seconds; server CPU seconds per phone, ack and update latencies, and the ratio.

    .venv/bin/python bench/tls_cost.py --phones 1000 --duration 60 --ramp 20

The certificates are a throwaway CA (trustme, as the tests use); the simulated phones and the host trust
it through SSL_CERT_FILE / REQUESTS_CA_BUNDLE. Results: bench/results/tls_cost.json and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import machine, raise_open_files, save  # noqa: E402
from phones_held import one_run  # noqa: E402
from tests.tls import make_certs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--ramp", type=float, default=20)
    parser.add_argument("--submit-rate", type=float, default=50)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    raise_open_files()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="stage-tls-bench-") as tmp_name:
        tmp = Path(tmp_name)
        certs = make_certs(tmp / "certs")
        os.environ["SSL_CERT_FILE"] = os.environ["REQUESTS_CA_BUNDLE"] = str(certs.ca)
        runs = []
        for label, extra in (("http", ()), ("https", ("--tls-cert", str(certs.cert), "--tls-key", str(certs.key)))):
            console.print(f"{label}: {args.phones} phones for {args.duration:.0f} s ...")
            run = one_run("stage", args.phones, args, tmp, extra=extra)
            runs.append({"transport": label, **run})
    plain, tls = runs
    table = Table(title=f"HTTPS against HTTP, {args.phones} phones, {args.duration:.0f} s of the night's load")
    for column in ("transport", "held", "server CPU s", "CPU ms/phone/min", "ack p50/p99 ms", "update p50/p99 ms",
                   "peak RSS MB"):
        table.add_column(column)
    minutes = args.duration / 60
    for run in runs:
        table.add_row(run["transport"], str(run["held"]), str(run["server_cpu_s"]),
                      f"{run['server_cpu_s'] * 1000 / args.phones / minutes:.1f}",
                      f"{run['ack_ms']['p50']}/{run['ack_ms']['p99']}",
                      f"{run['update_ms']['p50']}/{run['update_ms']['p99']}", str(run["server_peak_rss_mb"]))
    console.print(table)
    ratio = tls["server_cpu_s"] / plain["server_cpu_s"] if plain["server_cpu_s"] else float("nan")
    console.print(f"TLS costs {ratio:.2f}x the server CPU of plain HTTP for the same night")
    rows = "\n".join(
        f"| {r['transport']} | {r['held']} | {r['server_cpu_s']} "
        f"| {r['server_cpu_s'] * 1000 / args.phones / minutes:.1f} "
        f"| {r['ack_ms']['p50']} / {r['ack_ms']['p99']} | {r['update_ms']['p50']} / {r['update_ms']['p99']} "
        f"| {r['dropped']} / {r['lost']} | {r['server_peak_rss_mb']} |" for r in runs)
    markdown = (f"## Issue 19: what HTTPS costs ({args.phones} phones, {args.duration:.0f} s)\n\n"
                f"Machine: {machine()}. Command: `.venv/bin/python bench/tls_cost.py --phones {args.phones} "
                f"--duration {args.duration:.0f} --ramp {args.ramp:.0f}`. Server pinned to CPU 0, the load to CPU 1; "
                "both runs in one invocation, one after the other.\n\n"
                "| transport | held | server CPU s | CPU ms per phone-minute | ack p50 / p99 ms | update p50 / p99 ms "
                "| dropped / lost | peak RSS MB |\n|---|---|---:|---:|---:|---:|---:|---:|\n"
                f"{rows}\n\nTLS: **{ratio:.2f}x** the server CPU of plain HTTP for the same night.\n")
    save("tls_cost", {"args": vars(args), "runs": runs, "cpu_ratio": round(ratio, 2)}, markdown)


if __name__ == "__main__":
    main()
