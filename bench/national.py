"""The overview and the JSON API at national scale: ~1 000 000 observation vintages, 8 concurrent clients.

Run: .venv/bin/python bench/national.py [--duration 30] [--clients 8] [--db PATH]   (exits 1 if a goal is missed)

Builds (or, with --db and an existing file, reuses) a database in the real schema holding the real
catalogue's 88 indicators for 356 kommuner (Asker's current code among them), periods 2009–2024 with
two vintages each (KOSTRA-style: unrevised in March, revised in June the year after), so
356 × 88 × 16 × 2 = 1 002 496 rows, plus Asker's baseline through the store's own write path. The bulk
rows go in through one executemany per fetch round into the same table, indexes and triggers, in the
order a real history would have written them (round by round, not kommune by kommune). Then it starts
`monitor serve` (waitress, 8 threads) on loopback, and for each path keeps `--clients` closed-loop
keep-alive clients busy for `--duration` seconds after a warm-up, measuring p50/p95/p99, requests/s and
errors. Then it times `GET /` right after each of five one-row imports (the first request after a write
reads and evaluates everything afresh). The service's RSS is read from /proc after the runs.
Goal (issue 6): p95 ≤ 100 ms for `/` under 8 concurrent clients.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.seed.baseline import load_baseline  # noqa: E402
from monitor.catalogue.indicators import Catalogue, load_catalogue  # noqa: E402
from monitor.catalogue.kostra import load_kostra  # noqa: E402
from monitor.seed.kostra_baseline import load_kostra_baseline  # noqa: E402
from monitor.core.model import Observation, RunRecord  # noqa: E402
from monitor.store.database import Store  # noqa: E402

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
FIRST_YEAR, LAST_YEAR = 2009, 2024
KOMMUNER = 356
GOAL_P95_MS = 100.0
COUNTIES = ["03", "11", "15", "18", "31", "32", "33", "34", "39", "40", "42", "46", "50", "55", "56"]


def kommune_codes(current: str) -> list[str]:
    """356 four-digit codes, the kommune's current code among them (synthetic apart from that one)."""
    codes = [current]
    number = 1
    while len(codes) < KOMMUNER:
        code = f"{COUNTIES[number % len(COUNTIES)]}{number // len(COUNTIES) + 1:02d}"
        if code not in codes:
            codes.append(code)
        number += 1
    return codes


def build(path: Path, catalogue: Catalogue) -> int:
    """Write the national database; return the number of observation rows."""
    regions = kommune_codes(catalogue.municipality.current_code)
    rng = random.Random(6)
    started = time.perf_counter()
    with Store(path) as store:
        store.migrate()
        load_baseline(store, catalogue, NOW)
        load_kostra_baseline(store, load_kostra(REPO / "kostra.yaml"), NOW)  # the printed KOSTRA tables
        conn = store.conn
        conn.execute("PRAGMA synchronous = OFF")  # building only; the service opens it normally
        targets: dict[tuple[str, str], list[str]] = {}  # one run per table (or import file) and fetch round
        for indicator in catalogue.indicators:
            if indicator.fetch is not None:
                tables = sorted({s.table for s in indicator.fetch.series.values()})
                for table in tables[1:]:
                    targets.setdefault((indicator.fetch.kind, table), [])  # a run, but its rows come with the first
                targets.setdefault((indicator.fetch.kind, tables[0]), []).append(indicator.id)
            else:
                targets.setdefault(("import", f"{indicator.id}.csv"), []).append(indicator.id)
        level = {(i.id, r): rng.uniform(1, 120) for i in catalogue.indicators for r in regions}
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            for month, label in ((3, "unrevised"), (6, "revised")):
                known = datetime(year + 1, month, 15, 8, 0, tzinfo=timezone.utc).isoformat(timespec="seconds")
                with store.transaction():
                    for (source, target), indicator_ids in targets.items():
                        cursor = conn.execute(
                            "INSERT INTO fetch_runs (source, target, started_at, finished_at, outcome, row_count, "
                            "new_count, actor) VALUES (?,?,?,?,?,?,?,?)",
                            (source, target, known, known, "ok", len(regions) * len(indicator_ids),
                             len(regions) * len(indicator_ids), f"bench {label}"),
                        )
                        run_id = cursor.lastrowid
                        rows = []
                        for indicator_id in indicator_ids:
                            for region in regions:
                                drift = rng.gauss(0, 1.5) if label == "unrevised" else rng.gauss(0, 0.3)
                                value: float | None = round(level[indicator_id, region] + drift, 1)
                                status = None
                                if rng.random() < 0.03:
                                    value, status = None, rng.choice(["..", ":", "."])
                                rows.append((indicator_id, region, str(year), value, status, source,
                                             f"{year + 1}-{month:02d}-15", known, None, run_id))
                        conn.executemany(
                            "INSERT INTO observations (indicator_id, region, period, value, status, source, "
                            "source_updated, retrieved_at, vintage, run_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                            rows,
                        )
                        if source != "import":
                            conn.execute(
                                "INSERT INTO source_tables (source, table_id, label, updated, last_period, checked_at) "
                                "VALUES (?,?,?,?,?,?) ON CONFLICT (source, table_id) DO UPDATE SET "
                                "updated = excluded.updated, last_period = excluded.last_period, "
                                "checked_at = excluded.checked_at",
                                (source, target, target, known, str(year), known),
                            )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        count = store.count_observations()
    print(f"built {path} in {time.perf_counter() - started:.0f} s: {count} observation rows, "
          f"{path.stat().st_size / 1e6:.0f} MB", flush=True)
    return count


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.05)
        finally:
            conn.close()
    raise RuntimeError("monitor serve did not answer /healthz")


def load(port: int, path: str, clients: int, duration: float) -> dict[str, float]:
    """Closed-loop load: each client sends the next request as soon as the previous answer is read."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop = time.monotonic() + duration

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            began = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            latencies[index].append(time.perf_counter() - began)
            if not ok:
                errors[index] += 1
        conn.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    every = sorted(x for per in latencies for x in per)
    cuts = statistics.quantiles(every, n=100, method="inclusive")
    return {"requests": len(every), "errors": sum(errors), "rps": len(every) / elapsed,
            "p50": cuts[49] * 1000, "p95": cuts[94] * 1000, "p99": cuts[98] * 1000, "max": every[-1] * 1000}


def after_write(port: int, db: Path, catalogue: Catalogue, path: str, times: int = 5) -> list[float]:
    """ms for the first `path` after each of `times` one-row imports (each moves the store's fingerprint)."""
    took: list[float] = []
    for attempt in range(times):
        moment = datetime.now(timezone.utc)
        observation = Observation("sykefravaer", catalogue.municipality.current_code, "2025",
                                  round(5 + (time.time() * 1000 + attempt) % 1000 / 100, 2), None, "import")
        with Store(db, create=False) as store:
            store.write_run(RunRecord("import", "bench.csv", moment, moment, actor="bench"), [observation])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        began = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        took.append((time.perf_counter() - began) * 1000)
        conn.close()
        if response.status != 200:
            raise RuntimeError(f"GET {path} after a write: HTTP {response.status}")
    return took


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--db", type=Path, help="build here (or reuse if it exists) instead of a temp dir")
    parser.add_argument("--paths", default="/,/api/indicators")
    parser.add_argument("--cold", default="/", help="paths timed right after each one-row import, comma-separated")
    args = parser.parse_args()
    catalogue_path = REPO / "indicators.yaml"
    catalogue = load_catalogue(catalogue_path)
    with tempfile.TemporaryDirectory() as folder:
        db = args.db or Path(folder) / "national.db"
        if db.exists():
            with Store(db, create=False) as store:
                store.migrate()  # a database built by an older version of this bench
                rows = store.count_observations()
        else:
            rows = build(db, catalogue)
        port = free_port()
        env = {**os.environ, "MONITOR_DB": str(db), "MONITOR_CATALOGUE": str(catalogue_path),
               "MONITOR_SECRET_KEY": "bench-only-secret", "MONITOR_READ_OPEN": "true", "MONITOR_TIMEZONE": "Europe/Oslo"}
        # The service's log goes to a file: a pipe nobody reads fills up (waitress warns of queue depth under
        # load) and then blocks the service.
        log = (Path(folder) / "serve.log").open("w", encoding="utf-8")
        server = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=log,
        )
        results: list[tuple[str, dict[str, float]]] = []
        try:
            wait_ready(port)
            rss_idle = rss_mb(server.pid)[0]
            for path in args.paths.split(","):
                load(port, path, 2, 3.0)  # warm-up: caches, page cache, first template compile
                results.append((path, load(port, path, args.clients, args.duration)))
            cold = {path: after_write(port, db, catalogue, path) for path in args.cold.split(",")}
            rss, peak = rss_mb(server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
    print(f"\n{rows} observation rows, {KOMMUNER} kommuner × {len(catalogue.indicators)} indicators × "
          f"{LAST_YEAR - FIRST_YEAR + 1} periods × 2 vintages (+ Asker's baseline); {args.clients} clients, "
          f"{args.duration:.0f} s per path, loopback, {os.cpu_count()} cores\n")
    print("| path | requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for path, r in results:
        print(f"| `GET {path}` | {r['requests']:.0f} | {r['errors']:.0f} | {r['rps']:.1f} | {r['p50']:.1f} | "
              f"{r['p95']:.1f} | {r['p99']:.1f} | {r['max']:.1f} |")
    for path, took in cold.items():
        print(f"\n`GET {path}` right after a one-row import (nothing cached: read and evaluate afresh), one client: "
              f"median {statistics.median(took):.0f} ms, max {max(took):.0f} ms over {len(took)} imports")
    print(f"\nservice RSS: {rss_idle:.0f} MB after start, {rss:.0f} MB after the runs (peak {peak:.0f} MB)")
    overview = dict(results).get("/")
    goals = [("overview p95 ≤ 100 ms", overview is not None and overview["p95"] <= GOAL_P95_MS),
             ("no errors", all(r["errors"] == 0 for _, r in results))]
    print()
    for goal, met in goals:
        print(f"- {goal}: {'met' if met else 'NOT MET'}")
    return 0 if all(met for _, met in goals) else 1


if __name__ == "__main__":
    raise SystemExit(main())
