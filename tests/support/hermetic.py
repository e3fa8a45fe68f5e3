"""Keep the tests off the network: source URLs at a closed loopback port, and a guard on every connect.

`closed_port()` binds 127.0.0.1:0, notes the port and closes the socket, so a connect there is refused at
once. `source_url_env()` maps every MONITOR_*_URL setting that points off this machine by default (read from
`Settings`, not listed by hand) to that port; the tests' conftest sets them for the whole session, and
subprocesses the tests spawn inherit them.

`NetworkGuard` wraps `socket.socket.connect`/`connect_ex` and `socket.getaddrinfo`: a connect to anything but
127.0.0.0/8, ::1 or localhost (or a Unix socket), or a name lookup of anything but localhost or an IP literal,
raises `NonLoopbackConnection` and is recorded. The code under test may catch the error (an unreachable
source is a normal outcome), so the conftest also fails the test at teardown for every recorded attempt.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from monitor.core.settings import Settings


class NonLoopbackConnection(ConnectionError):
    """A test tried to reach something other than this machine (an OSError, so sockets are closed as usual)."""


def closed_port() -> int:
    """A loopback TCP port nothing listens on (bound, noted, closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def is_loopback_host(host: str) -> bool:
    """localhost, 127.0.0.0/8, ::1 (or an IPv4-mapped 127.x) — nothing else."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def url_settings() -> list[str]:
    """The Settings fields ending in _url whose default points off this machine (the sources' base URLs)."""
    fields = []
    for name, field in Settings.model_fields.items():
        if not name.endswith("_url"):
            continue
        host = urlsplit(str(field.default)).hostname if field.default else None
        if host is None or not is_loopback_host(host):
            fields.append(name)
    return sorted(fields)


def source_url_env(port: int) -> dict[str, str]:
    """MONITOR_<FIELD> → a URL on the closed loopback port, for every off-machine URL setting."""
    prefix = str(Settings.model_config.get("env_prefix", "MONITOR_"))
    return {f"{prefix}{name}".upper(): f"http://127.0.0.1:{port}/closed/{name}" for name in url_settings()}


def _address_allowed(family: int, address: Any) -> bool:
    if family == getattr(socket, "AF_UNIX", object()) or isinstance(address, (str, bytes)):
        return True
    if isinstance(address, tuple) and address and isinstance(address[0], str):
        return is_loopback_host(address[0])
    return False


class NetworkGuard:
    """Patches the socket module while installed; records every refused attempt in `attempts`."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self.reported = 0
        self._originals: dict[str, Any] = {}

    def refuse(self, what: str) -> None:
        self.attempts.append(what)
        raise NonLoopbackConnection(f"the tests may reach only this machine (127.0.0.0/8, ::1, localhost): {what}")

    def unreported(self) -> list[str]:
        """The attempts since the last call (each attempt is reported once)."""
        new = self.attempts[self.reported:]
        self.reported = len(self.attempts)
        return new

    @contextmanager
    def expect_refusals(self) -> Iterator[list[str]]:
        """For the guard's own tests: the attempts made inside the block, which are then not reported."""
        start = len(self.attempts)
        made: list[str] = []
        try:
            yield made
        finally:
            made.extend(self.attempts[start:])
            del self.attempts[start:]
            self.reported = min(self.reported, len(self.attempts))

    def install(self) -> None:
        guard = self
        connect = socket.socket.connect
        connect_ex = socket.socket.connect_ex
        getaddrinfo = socket.getaddrinfo

        def guarded_connect(sock: socket.socket, address: Any) -> None:
            if not _address_allowed(sock.family, address):
                guard.refuse(f"connect to {address!r}")
            return connect(sock, address)

        def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
            if not _address_allowed(sock.family, address):
                guard.refuse(f"connect_ex to {address!r}")
            return connect_ex(sock, address)

        def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(host, bytes):
                host = host.decode("idna")
            if host not in (None, "") and not is_loopback_host(host):
                try:
                    ipaddress.ip_address(host.split("%", 1)[0])  # a literal needs no lookup; connect checks it
                except ValueError:
                    guard.refuse(f"name lookup of {host!r}")
            return getaddrinfo(host, *args, **kwargs)

        self._originals = {"connect": connect, "connect_ex": connect_ex, "getaddrinfo": getaddrinfo}
        socket.socket.connect = guarded_connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign,assignment]
        socket.getaddrinfo = guarded_getaddrinfo

    def uninstall(self) -> None:
        socket.socket.connect = self._originals["connect"]  # type: ignore[method-assign]
        socket.socket.connect_ex = self._originals["connect_ex"]  # type: ignore[method-assign]
        socket.getaddrinfo = self._originals["getaddrinfo"]
