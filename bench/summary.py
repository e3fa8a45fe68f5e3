"""Performance summary (issue 9): every performance goal measured side by side in one run, one table.

Run: .venv/bin/python bench/summary.py [--national-duration 10] [--db PATH]   (exits 1 if a goal is missed)

Reuses the single benchmarks unchanged, each as its own process (so one's caches and memory do not
colour the next), and reads their printed figures:

- bench/requests.py: requests per SSB refresh against the fake PxWebApi (30 calls / 60 s);
- bench/normalise.py: the JSON-stat normaliser against pyjstat and json.loads;
- bench/national.py --duration N: overview p95 at national scale (~1 000 000 rows, 8 clients) and the
  service's RSS (peak) with that database;
- bench/export.py: a full årsrapport export;
- and, measured here, the start-up time of `monitor run` (scheduler + web) with the national database:
  from the process start until `/healthz` answers 200, best and worst of three starts.

The national database is built once (in a temp dir, or at --db and reused on later runs).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
SCRIPT = str(Path(sys.executable).parent / "monitor")


def bench(name: str, *args: str) -> str:
    result = subprocess.run([sys.executable, str(BENCH / name), *args], cwd=REPO, capture_output=True, text=True, timeout=1800)
    if result.returncode not in (0, 1):  # 1: a goal missed, still figures to read
        raise RuntimeError(f"{name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    if found is None:
        raise RuntimeError(f"no match for {pattern!r} in:\n{text}")
    return float(found.group(1))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthz(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def startup_seconds(db: Path, starts: int = 3) -> list[float]:
    """Seconds from starting `monitor run` until /healthz answers 200, once per start."""
    env = {**os.environ, "MONITOR_DB": str(db), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
           "MONITOR_SECRET_KEY": "bench-only-secret", "MONITOR_READ_OPEN": "true",
           # The scheduler would fetch from the real sources: point them at a closed loopback port.
           "MONITOR_SSB_URL": "http://127.0.0.1:9", "MONITOR_FHI_URL": "http://127.0.0.1:9",
           "MONITOR_UDIR_URL": "http://127.0.0.1:9", "MONITOR_RAW_DIR": str(db.parent / "raw")}
    took: list[float] = []
    for _ in range(starts):
        port = free_port()
        began = time.perf_counter()
        process = subprocess.Popen([SCRIPT, "run", "--host", "127.0.0.1", "--port", str(port)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not healthz(port):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("monitor run did not answer /healthz")
                time.sleep(0.02)
            took.append(time.perf_counter() - began)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--national-duration", type=float, default=10.0, help="seconds of load per path (national.py)")
    parser.add_argument("--db", type=Path, help="the national database: built here, or reused if it exists")
    args = parser.parse_args()
    rows: list[tuple[str, str, str, bool | None]] = []  # (measure, goal, measured, met; None: no goal)

    requests = bench("requests.py")
    tables = int(number(r"(\d+) distinct SSB tables", requests))
    full = int(number(r"\| full refresh \(first run\) \| (\d+) \|", requests))
    unchanged = int(number(r"\| daily check, nothing changed \| (\d+) \|", requests))
    refused = sum(int(n) for n in re.findall(r"^\|[^|]+\| \d+ \| (\d+) \|", requests, re.M))
    rows.append(("requests, full SSB refresh", f"≤ {tables + 1} (tables + 1)", str(full), full <= tables + 1))
    rows.append(("requests, daily check with no change", "≤ 2", str(unchanged), unchanged <= 2))
    rows.append(("429s from the fake's 30 calls / 60 s", "0", str(refused), refused == 0))

    normalise = bench("normalise.py")
    vs_pyjstat = number(r"faster than pyjstat \(fast path\): \w+ \(([\d.]+)x\)", normalise)
    vs_json = number(r"json\.loads \(fast path\): \w+ \(([\d.]+)x\)", normalise)
    rows.append(("normaliser vs pyjstat (800 000 cells)", "≥ 5× faster", f"{vs_pyjstat:.1f}× faster", vs_pyjstat >= 5))
    rows.append(("normaliser vs json.loads", "≤ 2× json.loads", f"{vs_json:.2f}×", vs_json <= 2))

    with tempfile.TemporaryDirectory() as folder:
        db = args.db or Path(folder) / "national.db"
        national = bench("national.py", "--duration", str(args.national_duration), "--db", str(db))
        p95 = number(r"\| `GET /` \| \d+ \| \d+ \| [\d.]+ \| [\d.]+ \| ([\d.]+) \|", national)
        errors = sum(int(n) for n in re.findall(r"^\| `GET [^`]+` \| \d+ \| (\d+) \|", national, re.M))
        peak = number(r"\(peak (\d+) MB\)", national)
        rows.append(("overview `GET /` p95, national DB, 8 clients", "≤ 100 ms", f"{p95:.1f} ms", p95 <= 100))
        rows.append(("HTTP errors during the national load", "0", str(errors), errors == 0))
        rows.append(("service RSS (peak), national DB", "≤ 200 MB", f"{peak:.0f} MB", peak <= 200))
        starts = startup_seconds(db)
        rows.append(("start-up of `monitor run` to /healthz, national DB", "(no goal set)",
                     f"{min(starts):.2f}–{max(starts):.2f} s", None))

    export = bench("export.py")
    worst = number(r"\(worst ([\d.]+) s\)", export)
    rows.append(("full årsrapport export (worst format, whole command)", "≤ 1 s", f"{worst:.3f} s", worst <= 1.0))

    print(f"\n{os.cpu_count()} cores, loopback; national load {args.national_duration:.0f} s per path\n")
    print("| measure | goal | measured | met |")
    print("|---|---|---:|---|")
    for measure, goal, measured, met in rows:
        print(f"| {measure} | {goal} | {measured} | {'–' if met is None else 'yes' if met else '**no**'} |")
    missed = [row for row in rows if row[3] is False]
    goals = sum(row[3] is not None for row in rows)
    print(f"\n{goals - len(missed)} of {goals} goals met" + ("" if not missed else ": missed " + ", ".join(r[0] for r in missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
