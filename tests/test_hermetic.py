"""The tests are hermetic: every source URL points at a closed loopback port, and no test reaches off this machine."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from pathlib import Path

import httpx
import pytest

from monitor.core.settings import Settings, load_settings
from monitor.sources.registry import SOURCES
from support.paths import TESTS
from support.hermetic import NetworkGuard, NonLoopbackConnection, closed_port, is_loopback_host, url_settings

OFF_MACHINE = ("192.0.2.1", 80)  # TEST-NET-1, never routed


def test_every_source_url_setting_is_covered() -> None:
    """The URL settings are read from Settings, and they include every source's URL setting in the registry."""
    covered = set(url_settings())
    assert {"ssb_url", "fhi_url", "udir_url"} <= covered
    assert {s.url_setting for s in SOURCES.values() if s.url_setting} <= covered
    assert "base_url" not in covered  # the UI's own address, on this machine by default, is no source


def test_the_environment_points_every_source_at_a_closed_loopback_port(closed_source_urls: dict[str, str]) -> None:
    settings = load_settings()
    assert sorted(closed_source_urls) == sorted(f"MONITOR_{name.upper()}" for name in url_settings())
    ports = set()
    for name in url_settings():
        url = httpx.URL(getattr(settings, name))
        assert os.environ[f"MONITOR_{name.upper()}"] == str(url)
        assert url.host == "127.0.0.1" and url != httpx.URL(str(Settings.model_fields[name].default))
        ports.add(url.port)
    (port,) = ports
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("127.0.0.1", port))


def test_a_source_client_with_the_default_settings_gets_connection_refused() -> None:
    """A test that forgets to point a source at its fake reaches the closed port, not the real source."""
    with pytest.raises(httpx.ConnectError):
        httpx.get(load_settings().ssb_url + "/tables", timeout=5)


def test_a_subprocess_inherits_the_closed_urls(closed_source_urls: dict[str, str]) -> None:
    code = "from monitor.core.settings import load_settings as l; s = l(); print(s.ssb_url, s.fhi_url, s.udir_url)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [closed_source_urls[f"MONITOR_{k}_URL"] for k in ("SSB", "FHI", "UDIR")]


def test_the_closed_port_refuses() -> None:
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", closed_port())) != 0


@pytest.mark.parametrize("host", ["192.0.2.1", "10.0.0.1", "8.8.8.8", "::ffff:192.0.2.1", "2001:db8::1", "data.ssb.no"])
def test_only_loopback_counts_as_loopback(host: str) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "localhost", "LOCALHOST", "::ffff:127.0.0.1"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


def test_a_connect_off_this_machine_raises_and_is_recorded(network_guard: NetworkGuard) -> None:
    with network_guard.expect_refusals() as refused:
        with socket.socket() as sock, pytest.raises(NonLoopbackConnection):
            sock.connect(OFF_MACHINE)
        with socket.socket() as sock, pytest.raises(NonLoopbackConnection):
            sock.connect_ex(OFF_MACHINE)
        with socket.socket(socket.AF_INET6) as sock, pytest.raises(NonLoopbackConnection):
            sock.connect(("2001:db8::1", 80, 0, 0))
        with pytest.raises(NonLoopbackConnection):
            socket.create_connection(OFF_MACHINE, timeout=1)
        with pytest.raises(NonLoopbackConnection):
            socket.getaddrinfo("data.ssb.no", 443)
    assert refused == [
        "connect to ('192.0.2.1', 80)", "connect_ex to ('192.0.2.1', 80)", "connect to ('2001:db8::1', 80, 0, 0)",
        "connect to ('192.0.2.1', 80)", "name lookup of 'data.ssb.no'",
    ]


def test_a_swallowed_refusal_still_fails_the_test(network_guard: NetworkGuard) -> None:
    """Code under test that catches the error (an unreachable source is normal) does not hide the attempt."""
    with network_guard.expect_refusals() as refused:
        try:
            httpx.get("http://192.0.2.1/", timeout=1)
        except Exception:  # noqa: BLE001 — what a fetcher does with an unreachable source
            pass
        assert network_guard.unreported() == ["connect to ('192.0.2.1', 80)"]
    assert refused == ["connect to ('192.0.2.1', 80)"]


def test_a_test_that_reaches_off_machine_fails(tmp_path: Path) -> None:
    """Run a test file under the real conftest: the test that connects to 192.0.2.1 fails, the others pass."""
    (tmp_path / "conftest.py").write_text((TESTS / "conftest.py").read_text())
    (tmp_path / "test_net.py").write_text(
        """
import socket

def test_swallows_an_off_machine_connect():
    with socket.socket() as sock:
        try:
            sock.connect(("192.0.2.1", 80))
        except Exception:
            pass

def test_loopback_is_fine():
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", 9)) != 0
"""
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(tmp_path),
         str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 passed, 1 error" in result.stdout, result.stdout
    assert "ERROR at teardown of test_swallows_an_off_machine_connect" in result.stdout
    assert "connect to ('192.0.2.1', 80)" in result.stdout
