"""Time a full årsrapport export (all eight tables, 2019–2026) in each format, side by side in one run.

Run: .venv/bin/python bench/export.py   (exits 1 if the goal is missed)
Goal (issue 7): a full export takes at most 1 s.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.seed.baseline import load_baseline  # noqa: E402
from monitor.catalogue.indicators import load_catalogue  # noqa: E402
from monitor.report.formats import to_csv, to_html, to_xlsx  # noqa: E402
from monitor.report.exports import build_tables, export_meta  # noqa: E402
from monitor.store.database import Store  # noqa: E402

GOAL_SECONDS = 1.0


def best_of(runs: int, work: object) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    repo = Path(__file__).resolve().parent.parent
    catalogue = load_catalogue(repo / "indicators.yaml")
    now = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        with Store(db) as store:
            store.migrate()
            load_baseline(store, catalogue, now)
            years = list(range(2019, 2027))

            def full(render: str) -> None:
                vintages = store.all_vintages(catalogue.municipality.current_code)
                tables = build_tables(catalogue, vintages, years)
                meta = export_meta(catalogue, tables, "27.11.2026")
                {"html": lambda: to_html(tables, meta, "x"), "csv": lambda: to_csv(tables, meta),
                 "xlsx": lambda: to_xlsx(tables, meta)}[render]()

            for render in ("html", "csv", "xlsx"):
                rows.append((f"in-process {render}", best_of(5, lambda r=render: full(r))))
        script = str(Path(sys.executable).parent / "monitor")
        env = {"MONITOR_DB": str(db), "MONITOR_CATALOGUE": str(repo / "indicators.yaml"), "PATH": "/usr/bin:/bin"}
        for render in ("html", "csv", "xlsx"):
            out = Path(folder) / f"a.{render}"
            command = [script, "export", "arsrapport", "--from", "2019", "--to", "2026", "--format", render, "--out", str(out)]
            rows.append((f"`monitor export` {render} (whole command)",
                         best_of(3, lambda c=command: subprocess.run(c, env=env, check=True, capture_output=True))))
    print("| run | seconds (best of runs) |")
    print("|---|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.3f} |")
    worst = max(seconds for _, seconds in rows)
    print(f"\nGoal ≤ {GOAL_SECONDS:.1f} s for a full export: {'met' if worst <= GOAL_SECONDS else 'NOT MET'} (worst {worst:.3f} s)")
    return 0 if worst <= GOAL_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
