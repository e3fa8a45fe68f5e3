"""Concurrency: the web app, forced fetches and CLI imports on one database at the same time (issue 9).

Run: .venv/bin/python bench/concurrency.py [--duration 60] [--clients 8]   (exits 1 if a goal is missed)

Starts the fake PxWebApi, Udir, FHI, Miljødirektoratet and barnehagefakta servers in this process, `monitor init` and one `monitor fetch`
against them, then `monitor serve` (waitress) on loopback. For `--duration` seconds, at the same time:

- `--clients` closed-loop keep-alive clients cycle through `/`, `/api/indicators` and `/healthz`;
- a loop runs `monitor fetch --force` (every source, the scheduler's fetch path) one run after another;
- a loop runs `monitor import` of a 1 200-row CSV whose values change every time (so each import writes).

Goals: 0 "database is locked" in any process's output, 0 HTTP 5xx, 0 failed fetch or import runs.
The test suite runs the same thing for 12 s (tests/test_concurrency.py).
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))  # the fakes import each other as top-level modules, as under pytest

from support.fake_barnehagefakta import FakeBarnehagefakta  # noqa: E402
from support.fake_fhi import FakeFhi  # noqa: E402
from support.fake_miljodir import FakeMiljodir  # noqa: E402
from support.fake_pxwebapi import FakePxWebApi  # noqa: E402
from support.fake_udir import FakeUdir  # noqa: E402
from national import free_port, wait_ready  # noqa: E402

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
PATHS = ["/", "/api/indicators", "/healthz"]
SCRIPT = str(Path(sys.executable).parent / "monitor")
LOCKED = "database is locked"


@dataclass
class Figures:
    requests: int = 0
    server_errors: int = 0  # HTTP 5xx
    other_errors: int = 0  # connection failures, other non-200 answers
    fetch_runs: int = 0
    fetch_failed: int = 0
    import_runs: int = 0
    import_failed: int = 0
    locked: int = 0  # "database is locked" anywhere in any process's output
    latencies: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def met(self) -> bool:
        return self.locked == 0 and self.server_errors == 0 and self.other_errors == 0 and not self.fetch_failed \
            and not self.import_failed and self.fetch_runs > 0 and self.import_runs > 0

    def table(self, duration: float, clients: int) -> str:
        every = sorted(self.latencies)
        p95 = every[int(len(every) * 0.95)] * 1000 if every else float("nan")
        rows = [
            ("duration (s)", f"{duration:.0f}"),
            ("web clients", str(clients)),
            ("HTTP requests", str(self.requests)),
            ("HTTP p95 (ms)", f"{p95:.1f}"),
            ("HTTP 5xx", str(self.server_errors)),
            ("other HTTP errors", str(self.other_errors)),
            ("`monitor fetch --force` runs (failed)", f"{self.fetch_runs} ({self.fetch_failed})"),
            ("`monitor import` runs (failed)", f"{self.import_runs} ({self.import_failed})"),
            ('"database is locked"', str(self.locked)),
        ]
        return "\n".join(["| measure | value |", "|---|---:|", *(f"| {k} | {v} |" for k, v in rows)])


def write_csv(path: Path, iteration: int) -> Path:
    lines = ["indicator_id;region;period;value"]
    for k, indicator in enumerate(["sykefravaer", "heltidsansatte", "stillingsstorrelse"]):
        for r in range(20):
            for year in range(2005, 2025):
                tenths = (iteration * 13 + k * 7 + r * 3 + year) % 1000
                lines.append(f"{indicator};{3200 + r:04d};{year};{tenths // 10},{tenths % 10}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(duration: float, clients: int = 8, folder: Path | None = None) -> Figures:
    figures = Figures()
    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as temp, \
            FakePxWebApi(calls=100000, window=60, now=NOW) as ssb, \
            FakeUdir(calls=100000) as udir, FakeFhi(calls=100000) as fhi, \
            FakeMiljodir(calls=100000) as miljodir, FakeBarnehagefakta(calls=100000) as barnehagefakta:
        base = folder or Path(temp)
        env = {
            **os.environ, "MONITOR_DB": str(base / "concurrency.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
            "MONITOR_RAW_DIR": str(base / "raw"), "MONITOR_SSB_URL": ssb.base_url, "MONITOR_UDIR_URL": udir.base_url,
            "MONITOR_FHI_URL": fhi.base_url, "MONITOR_SECRET_KEY": "bench-only-secret", "MONITOR_READ_OPEN": "true",
            "MONITOR_MILJODIR_URL": miljodir.base_url, "MONITOR_BARNEHAGEFAKTA_URL": barnehagefakta.base_url,
            "MONITOR_TIMEZONE": "Europe/Oslo",
        }
        subprocess.run([SCRIPT, "init"], env=env, check=True, capture_output=True, timeout=60)
        subprocess.run([SCRIPT, "fetch"], env=env, capture_output=True, timeout=120)
        port = free_port()
        # The service's log goes to a file, read at the end: a pipe read only at the end can fill up under load
        # (waitress warns of queue depth) and block the service.
        log_path = base / "serve.log"
        log = log_path.open("w", encoding="utf-8")
        server = subprocess.Popen([SCRIPT, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=log)
        try:
            wait_ready(port)
            stop = time.monotonic() + duration

            def note(output: str, what: str) -> None:
                if LOCKED in output:
                    with lock:
                        figures.locked += output.count(LOCKED)
                        figures.problems.append(f"{what}: {output.strip()[-300:]}")

            def client(index: int) -> None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                turn = index
                while time.monotonic() < stop:
                    path = PATHS[turn % len(PATHS)]
                    turn += 1
                    began = time.perf_counter()
                    status = 0
                    try:
                        conn.request("GET", path)
                        response = conn.getresponse()
                        body = response.read()
                        status = response.status
                    except (OSError, http.client.HTTPException):
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                        body = b""
                    took = time.perf_counter() - began
                    with lock:
                        figures.requests += 1
                        figures.latencies.append(took)
                        if status >= 500:
                            figures.server_errors += 1
                            figures.problems.append(f"GET {path}: HTTP {status}")
                        elif status != 200:
                            figures.other_errors += 1
                            figures.problems.append(f"GET {path}: {status or 'no answer'}")
                    note(body.decode("utf-8", "replace") if status >= 500 else "", f"GET {path}")
                conn.close()

            def fetches() -> None:
                while time.monotonic() < stop:
                    result = subprocess.run([SCRIPT, "fetch", "--force"], env=env, capture_output=True, text=True, timeout=300)
                    note(result.stdout + result.stderr, "fetch")
                    with lock:
                        figures.fetch_runs += 1
                        if result.returncode != 0:
                            figures.fetch_failed += 1
                            figures.problems.append(f"fetch exit {result.returncode}: {result.stderr.strip()[-300:]}")

            def imports() -> None:
                iteration = 0
                while time.monotonic() < stop:
                    iteration += 1
                    path = write_csv(base / f"import{iteration % 2}.csv", iteration)
                    result = subprocess.run([SCRIPT, "import", str(path), "--by", "bench"], env=env,
                                            capture_output=True, text=True, timeout=300)
                    note(result.stdout + result.stderr, "import")
                    with lock:
                        figures.import_runs += 1
                        if result.returncode != 0:
                            figures.import_failed += 1
                            figures.problems.append(f"import exit {result.returncode}: {result.stderr.strip()[-300:]}")

            threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
            threads += [threading.Thread(target=fetches), threading.Thread(target=imports)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()
        note(log_path.read_text(encoding="utf-8"), "serve")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    figures = run(args.duration, args.clients)
    print(f"\n{os.cpu_count()} cores, loopback\n")
    print(figures.table(args.duration, args.clients))
    for problem in figures.problems[:20]:
        print("problem:", problem)
    print("\ngoals (0 locked, 0 5xx, no failed run):", "met" if figures.met() else "NOT met")
    return 0 if figures.met() else 1


if __name__ == "__main__":
    sys.exit(main())
