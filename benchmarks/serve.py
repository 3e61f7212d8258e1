"""Benchmark: the dashboard server under load, on loopback, with the bundled dataset.

    python3 benchmarks/run.py serve             # 50 concurrent clients for 20 seconds
    python3 benchmarks/run.py serve --quick     # 10 clients for 3 seconds

Starts the real server in a fresh process (``python3 -m loopscope serve --read-only --port 0``), waits
for its ready line, warms it up (every distinct URL of the mix once, in order, so the analyses are
computed and cached), then runs the clients in this process: asyncio, one httpx.AsyncClient per
client with one keep-alive connection, each sending its next request as soon as the last one came
back, for a fixed time.  The endpoints are picked at random (seeded) from a mix of the read API.
Every response counts: a status other than 2xx or an exception is an error.  At the end the server
gets SIGINT and must exit with code 0.  Any error or an unclean exit fails the benchmark (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import date, timedelta

import numpy as np

READY = re.compile(r"loopscope dashboard on http://([^/]+)/")
TICK = os.sysconf("SC_CLK_TCK")


def _start(log) -> tuple[subprocess.Popen, str, float]:
    cmd = [sys.executable, "-m", "loopscope", "serve", "--read-only", "--port", "0"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True)  # stderr to a file: it never blocks
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=60):
            proc.kill()
            raise SystemExit("the server printed no ready line within 60 s")
    line = proc.stdout.readline()
    found = READY.search(line)
    if not found:
        proc.kill()
        proc.wait()
        log.seek(0)
        raise SystemExit(f"unexpected first line from the server: {line!r}; stderr: {log.read()[-2000:]}")
    return proc, f"http://{found.group(1)}", time.perf_counter() - start


def _stop(proc: subprocess.Popen) -> tuple[int | None, float, str]:
    start = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        return None, time.perf_counter() - start, out
    return proc.returncode, time.perf_counter() - start, out


def _proc_status(pid: int) -> dict[str, int]:
    """VmHWM and VmRSS in kB from /proc (empty where /proc is not there)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f) if k in ("VmHWM", "VmRSS")}
    except OSError:
        return {}


def _cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


def _mix(deals: list[str], parties: list[str]) -> dict[str, list[str]]:
    """Endpoint name -> the URLs it picks from (uniformly)."""
    days = [date(2025, 1, 1) + timedelta(days=d) for d in range(0, 365, 7)]  # 53 days, spread over 2025
    month_ends = [date(2025, m + 1, 1) - timedelta(days=1) for m in range(1, 12)] + [date(2025, 12, 31)]
    return {
        "meta": ["/api/meta"],
        "deals": ["/api/deals", "/api/deals?lang=de"],
        "deals, filtered": ["/api/deals?kind=equity&min_amount=1000000000", "/api/deals?q=nvidia",
                            "/api/deals?party=openai&party=microsoft", "/api/deals?status=cancelled&status=superseded",
                            "/api/deals?kind=credits&as_of=2025-06-30&lang=de"],
        "deal by id": [f"/api/deals/{d}" for d in deals],
        "network, as_of 2025": [f"/api/network?as_of={d}" for d in days],
        "cycles": ["/api/cycles", "/api/cycles?lang=de", "/api/cycles?temporal=true"],
        "circulation": ["/api/circulation"] + [f"/api/circulation?as_of={d}" for d in month_ends],
        "exposure": ["/api/exposure", "/api/exposure?as_of=2025-06-30"],
        "gap": ["/api/gap", "/api/gap?lang=de"],
        "party page": [f"/api/parties/{p}/page" for p in parties],
    }


async def _one(client, url: str) -> tuple[bool, float, str | None]:
    start = time.perf_counter()
    try:
        response = await client.get(url)
        ok = 200 <= response.status_code < 300
        problem = None if ok else f"HTTP {response.status_code} {url}: {response.text[:200]}"
    except Exception as exc:  # every exception is an error, counted and shown
        ok, problem = False, f"{type(exc).__name__} {url}: {exc}"
    return ok, time.perf_counter() - start, problem


async def _load(base: str, mix: dict[str, list[str]], clients: int, seconds: float) -> tuple[dict, float, list[str]]:
    import httpx

    names = list(mix)
    stats = {name: ([], [0]) for name in names}  # latencies, errors
    problems: list[str] = []

    async def user(seed: int, deadline: float) -> None:
        rng = random.Random(seed)
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
            while time.perf_counter() < deadline:
                name = rng.choice(names)
                ok, latency, problem = await _one(client, rng.choice(mix[name]))
                stats[name][0].append(latency)
                if not ok:
                    stats[name][1][0] += 1
                    problems.append(problem)

    start = time.perf_counter()
    await asyncio.gather(*(user(seed, start + seconds) for seed in range(clients)))
    return stats, time.perf_counter() - start, problems


async def _prepare(base: str) -> tuple[dict[str, list[str]], dict[str, float], list[str], list[float], str | None]:
    """The first request right after the ready line; the mix; warm-up: every distinct URL once (the
    analyses get computed and cached; only 3 of the deal ids); then an idle probe: 20 requests for
    /api/meta in a row on one keep-alive connection."""
    import httpx

    problems = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        ok, _, first = await _one(client, "/api/meta")
        for _ in range(100):  # up to 10 s for the server to take connections, if it did not at once
            if ok:
                break
            await asyncio.sleep(0.1)
            ok, _, problem = await _one(client, "/api/meta")
        if not ok:
            raise SystemExit(f"the server did not answer within 10 s of its ready line: {problem}")
        statuses = (await client.get("/api/meta")).json()["statuses"]
        deals = (await client.get("/api/deals", params={"status": statuses})).json()
        parties = (await client.get("/api/parties")).json()
        mix = _mix([d["id"] for d in deals], [p["id"] for p in parties])
        cold = {}
        for name, urls in mix.items():
            cold[name] = 0.0
            for url in (urls if name != "deal by id" else urls[:3]):
                ok, latency, problem = await _one(client, url)
                cold[name] = max(cold[name], latency)
                if not ok:
                    problems.append(problem)
        idle = [(await _one(client, "/api/meta"))[1] for _ in range(20)]
    return mix, cold, problems, idle, first


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 clients for 3 seconds instead of 50 for 20")
    args = parser.parse_args(argv)
    clients, seconds = (10, 3.0) if args.quick else (50, 20.0)

    with tempfile.TemporaryFile("w+") as log:
        proc, base, ready = _start(log)
        try:
            mix, cold, warm_problems, idle, first = asyncio.run(_prepare(base))
            before = _proc_status(proc.pid)
            cpu_before, client_cpu_before = _cpu_seconds(proc.pid), time.process_time()
            stats, elapsed, problems = asyncio.run(_load(base, mix, clients, seconds))
            cpu_after, client_cpu = _cpu_seconds(proc.pid), time.process_time() - client_cpu_before
            after = _proc_status(proc.pid)
            alive = proc.poll() is None
        finally:
            code, stop_seconds, out = _stop(proc)
            log.seek(0)
            err = log.read()
    failures: list[str] = []

    print(f"\nThe dashboard server under load: {clients} concurrent clients for {seconds:.0f} s on loopback, "
          f"bundled dataset, read-only\n")
    print(f"{'endpoint':<22} {'requests':>9} {'errors':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
          f"{'cold ms':>8}")
    print("-" * 86)
    every: list[float] = []
    errors = 0
    for name, (latencies, (errs,)) in stats.items():
        every += latencies
        errors += errs
        ms = np.array(latencies or [np.nan]) * 1000
        print(f"{name:<22} {len(latencies):>9,} {errs:>7,} {len(latencies) / elapsed:>8.1f} {np.percentile(ms, 50):>8.1f} "
              f"{np.percentile(ms, 95):>8.1f} {ms.max():>8.1f} {cold[name] * 1000:>8.1f}")
    print("-" * 86)
    ms = np.array(every or [np.nan]) * 1000
    print(f"{'total':<22} {len(every):>9,} {errors:>7,} {len(every) / elapsed:>8.1f} {np.percentile(ms, 50):>8.1f} "
          f"{np.percentile(ms, 95):>8.1f} {ms.max():>8.1f}")

    hwm = after.get("VmHWM")
    print(f"\nServer peak RSS (VmHWM): {hwm / 1024:.0f} MB" if hwm else "\nServer peak RSS: /proc not readable",
          end="")
    if before.get("VmHWM") and after.get("VmRSS"):
        print(f" (after warm-up {before['VmHWM'] / 1024:.0f} MB; RSS at the end {after['VmRSS'] / 1024:.0f} MB)", end="")
    print(f"; server ready line {ready:.2f} s after start; stopped by SIGINT in {stop_seconds:.2f} s, "
          f"exit code {code}.")
    if cpu_before is not None and cpu_after is not None:
        cores = os.cpu_count() or 1
        print(f"CPU during the {elapsed:.1f} s of load: server {cpu_after - cpu_before:.1f} s, clients {client_cpu:.1f} s, "
              f"of {cores * elapsed:.1f} s on {cores} cores.")
    print(f"Idle, one client, 20 requests for /api/meta in a row on one keep-alive connection: median "
          f"{np.median(idle) * 1000:.1f} ms, max {max(idle) * 1000:.1f} ms.")
    print(textwrap.fill("Notes: the clients (asyncio, one httpx.AsyncClient with one keep-alive connection each, no think time) run in "
          "this process and the server in its own, on the same machine: they share its cores, so the numbers "
          "understate what the server alone could do.  Warm-up before measuring: every distinct URL of the mix "
          "once (3 deal ids), which computes and caches the analyses; 'cold ms' is the slowest of those first "
          "requests (the server keeps up to 256 results).  Endpoints picked uniformly at random (seeded), then "
          "one of their URLs: " + "; ".join(f"{k} {len(v)}" for k, v in mix.items()) + " URLs.  Network: 53 days "
          "of 2025, one a week.  Latency is from sending the request to the whole body read.", width=110))
    if first:
        print(f"The first request right after the ready line failed: {first}")

    if not alive:
        failures.append("the server died during the load")
    if errors or warm_problems:
        failures.append(f"{errors:,} errors under load, {len(warm_problems)} during the warm-up")
        for problem in (warm_problems + problems)[:10]:
            print(f"  {problem}")
    if code != 0:
        failures.append(f"the server exited with code {code} after SIGINT" if code is not None else
                        "the server did not exit within 30 s of SIGINT (killed)")
    if err.strip():
        print(f"Server stderr:\n{err.strip()[-3000:]}")
    if "stopped" not in out:
        failures.append("the server did not print 'stopped'")
    if failures:
        print("FAILED: " + "; ".join(failures))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
