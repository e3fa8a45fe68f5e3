"""The browser tests' set-up: a seeded database, `monitor serve` on a free port, and Debian's Chromium.

The database gets the baseline (`monitor init`), an SSB fetch against the fake PxWebApi with one table
failing, an FHI fetch against the fake FHI, Udir unreachable, an import with new, revised and
status values, so the overview shows every kind of state, and a KOSTRA fetch with one table failing. An admin user can log in.

Chromium is Debian's (`/usr/bin/chromium`, installed by `make install-test`), driven by Playwright's
Python package; Playwright's own browser download is never used. Without Chromium, Playwright or
axe-core the tests fail with the reason; they are never skipped.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.fake_fhi import FakeFhi  # tests/ is on sys.path through the top-level conftest
from support.fake_pxwebapi import FakePxWebApi
from support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("MONITOR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
AXE_JS = Path(os.environ.get("MONITOR_AXE_JS", REPO / ".venv/node/node_modules/axe-core/axe.min.js"))
ARTIFACTS = REPO / "tests" / "artifacts"
KOSTRA_FIXTURES = REPO / "tests" / "fixtures" / "ssb-v2-kostra"
ADMIN = ("anne", "et langt og godt passord 42")
MONITOR = str(Path(sys.executable).parent / "monitor")

IMPORT_CSV = """indicator_id;period;value;status;note
disposisjonsfond;2023;9,2;;
disposisjonsfond;2024;4,1;;<script>alert(1)</script>
sykefravaer;2023;8,4;;
sykefravaer;2024;8,1;;
sykefravaer;2025;;Tall kommer;
"""
# A planner's corrected figure goes in as a manual bridge (issue 17). netto_lanegjeld is imported (issue 20: SSB 12143
# is only its control figure), and `--bridge` takes an imported indicator's file as it takes a fetched one's.
BRIDGE_CSV = """indicator_id;period;value;status;note
netto_lanegjeld;2022;91,3;;korrigert
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(env: dict[str, str], *args: str, stdin: str | None = None, ok: tuple[int, ...] = (0,)) -> str:
    result = subprocess.run([MONITOR, *args], env=env, input=stdin, capture_output=True, text=True, timeout=180)
    assert result.returncode in ok, f"monitor {' '.join(args)}: {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="session")
def seeded_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of a seeded database (fetched, imported, failing and late indicators)."""
    home = tmp_path_factory.mktemp("browser")
    with FakePxWebApi() as ssb, FakeFhi() as fhi:
        env = {
            **os.environ,
            "MONITOR_DB": str(home / "monitor.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
            "MONITOR_RAW_DIR": str(home / "raw"), "MONITOR_SSB_URL": ssb.base_url, "MONITOR_FHI_URL": fhi.base_url,
            "MONITOR_UDIR_URL": "http://127.0.0.1:9", "MONITOR_SECRET_KEY": "browser-tests-only",
        }
        _run(env, "init")
        ssb.inject("/tables/12143/data", "http400_problem", times=None, detail="Value AGD23 is not a valid value code")
        _run(env, "fetch", "--source", "ssb", ok=(0, 1))
        _run(env, "fetch", "--source", "fhi", ok=(0, 1))
        _run(env, "fetch", "--source", "udir", ok=(0, 1))
        csv = home / "registre.csv"
        csv.write_text(IMPORT_CSV, encoding="utf-8")
        _run(env, "import", str(csv), "--by", "planlegger")
        bridge = home / "bro.csv"
        bridge.write_text(BRIDGE_CSV, encoding="utf-8")
        _run(env, "import", str(bridge), "--bridge", "--by", "planlegger")
        _run(env, "user", "add", ADMIN[0], "--role", "admin", "--password-stdin", stdin=ADMIN[1] + "\n")
    # The KOSTRA comparison: every table but the barnevern one (12279), which SSB refuses.
    with FakePxWebApi(KOSTRA_FIXTURES) as kostra_ssb:
        kostra_ssb.inject("/tables/12279/data", "http400_problem", times=None, detail="Value KOSndubvinnbygge0000 is not valid")
        _run({**env, "MONITOR_SSB_URL": kostra_ssb.base_url}, "kostra", "fetch", ok=(1,))
    yield env


@pytest.fixture(scope="session")
def expected(seeded_env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """`monitor check --format json`, by indicator id: what the overview must show."""
    rows = json.loads(_run(seeded_env, "check", "--format", "json", ok=(0, 1)))
    return {row["id"]: row for row in rows}


@pytest.fixture(scope="session")
def base_url(seeded_env: dict[str, str]) -> Iterator[str]:
    """`monitor serve` on a free port against the seeded database."""
    port = _free_port()
    process = subprocess.Popen([MONITOR, "serve", "--port", str(port)], env=seeded_env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"

    def answered_or_exited() -> bool:
        if process.poll() is not None:
            return True
        try:
            httpx.get(url + "/healthz", timeout=2)
        except httpx.TransportError:
            return False
        return True

    if not wait_until(answered_or_exited, timeout=30) or process.poll() is not None:
        output = process.communicate(timeout=5)[0] if process.poll() is not None else ""
        pytest.fail(f"monitor serve did not answer on {url}: {output}")
    try:
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright; fails (never skips) with the reason when it cannot start."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's Chromium (`make install-test` "
                    "installs it with apt-get install chromium)", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(f"the Python package playwright is missing ({exc}); `make install-test` installs it", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nb-NO")
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture(scope="session")
def axe_js() -> Path:
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: `make install-test` installs axe-core with npm", pytrace=False)
    return AXE_JS


@pytest.fixture(scope="session")
def admin() -> tuple[str, str]:
    """The seeded admin's username and password."""
    return ADMIN


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
