"""Concurrency, short version of bench/concurrency.py (issue 9): web app, forced fetches and imports at once.

For 12 s: 8 web clients on `monitor serve`, `monitor fetch --force` in a loop against the fake sources and
`monitor import` in a loop, all on one database. No "database is locked", no HTTP 5xx, no failed run.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from support.paths import REPO

pytestmark = pytest.mark.slow


def bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_concurrency", REPO / "bench" / "concurrency.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_web_fetch_and_import_at_once_never_lock_or_fail(tmp_path: Path) -> None:
    figures = bench_module().run(12.0, clients=8, folder=tmp_path)
    print(figures.table(12.0, 8))
    assert figures.locked == 0, figures.problems
    assert figures.server_errors == 0, figures.problems
    assert figures.other_errors == 0, figures.problems
    assert figures.fetch_runs >= 2 and figures.fetch_failed == 0, figures.problems
    assert figures.import_runs >= 2 and figures.import_failed == 0, figures.problems
    assert figures.requests > 100
