"""Issue 16, the command line and the alerts: a busy port is one line, held mail is named, users read bokmål."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.store.database import Store
from support.paths import FIXTURES

MONITOR = str(Path(sys.executable).parent / "monitor")
SMALL = FIXTURES / "catalogue" / "small.yaml"


def service_env(tmp_path: Path) -> dict[str, str]:
    """A migrated database and the small catalogue, for a `monitor` subprocess."""
    with Store(tmp_path / "x.db") as store:
        store.migrate()
    return {**os.environ, "MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(SMALL),
            "MONITOR_RAW_DIR": str(tmp_path / "raw")}


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port some other program listens on."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def processes_using(db: Path) -> list[str]:
    """Every live process (besides this one) started with MONITOR_DB=db: an orphan scheduler would be one."""
    wanted = f"MONITOR_DB={db}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if wanted in (entry / "environ").read_bytes().split(b"\0"):
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return found


# -- 1. a busy port ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["serve", "run"])
def test_a_busy_port_is_one_line_and_a_nonzero_exit(tmp_path: Path, busy_port: int, command: str) -> None:
    env = service_env(tmp_path)
    done = subprocess.run([MONITOR, command, "--port", str(busy_port)], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "OSError" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"Feil: port {busy_port} er i bruk") and "--port" in lines[0]
    assert "Nettsidene svarer" not in done.stdout  # it never claimed to answer
    # `monitor run` binds before it starts the scheduler: none was started, none is left behind, no lock is held.
    assert "Planleggeren" not in done.stdout
    if Path("/proc/self/environ").exists():
        assert processes_using(tmp_path / "x.db") == []
    with Store(tmp_path / "x.db", create=False) as store:
        assert store.conn.execute("SELECT COUNT(*) FROM scheduler_lock").fetchone()[0] == 0
