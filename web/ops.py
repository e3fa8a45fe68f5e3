"""For operations: `/healthz` (the database and the scheduler's heartbeat) and `/metrics` (Prometheus).

`/healthz` answers 200 with {"status": "ok", …} while the database answers and the scheduler is not silent, else
503 with "status": "unhealthy". How the scheduler counts is MONITOR_HEALTH_SCHEDULER: `auto` (default) fails when
a scheduler holds the lock but has not beaten for MONITOR_HEALTH_MAX_HEARTBEAT_AGE seconds, and accepts none at
all (a web-only deployment, or the moment before `monitor run`'s scheduler starts); `required` also fails when no
scheduler holds the lock; `ignored` only reports it. Both endpoints are open without a login (auth.PUBLIC_ENDPOINTS);
/metrics has its own access rule, MONITOR_METRICS_ACCESS (see `_refusal`).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import sqlite3
from typing import Any

from flask import Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from monitor.core.errors import ConfigError, MonitorError
from monitor.core.settings import Settings
from monitor.report.metrics import SnapshotCollector, snapshot
from monitor.store import ops
from web import clock
from web.store import get_store

log = logging.getLogger("web.ops")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_NETWORKS = "monitor_metrics_networks"
FORWARDED = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def allowed_networks(text: str) -> list[Network]:
    """MONITOR_METRICS_ALLOW as networks (a single address is a /32 or /128); a ConfigError naming a bad entry."""
    networks: list[Network] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigError(f"MONITOR_METRICS_ALLOW: {entry!r} er ingen IP-adresse eller nettverk (CIDR)") from None
    return networks


def init_app(app: Flask) -> None:
    """Add /healthz and /metrics; refuse to start with a /metrics access rule that cannot work."""
    settings: Settings = app.config["MONITOR_SETTINGS"]
    if settings.metrics_access == "token" and not (settings.metrics_token and settings.metrics_token.get_secret_value()):
        raise ConfigError("MONITOR_METRICS_ACCESS=token krever MONITOR_METRICS_TOKEN")
    app.extensions[_NETWORKS] = allowed_networks(settings.metrics_allow)
    app.add_url_rule("/healthz", "health", health)
    app.add_url_rule("/metrics", "metrics", metrics)


def health() -> tuple[dict[str, Any], int]:
    """The database and the scheduler's heartbeat; 503 when either is not as it should be."""
    settings = clock.settings()
    try:
        beat = ops.heartbeat(get_store().conn)
        database = "ok"
    except (MonitorError, sqlite3.Error) as exc:
        log.warning("/healthz: databasen svarer ikke: %s", exc)
        beat, database = None, "unavailable"
    age = max(0.0, (clock.now() - beat).total_seconds()) if beat is not None else None
    if database != "ok":
        scheduler = "unknown"
    elif age is None:
        scheduler = "absent"
    else:
        scheduler = "running" if age <= settings.health_max_heartbeat_age else "silent"
    failing = database != "ok" or (settings.health_scheduler != "ignored" and (
        scheduler == "silent" or (scheduler == "absent" and settings.health_scheduler == "required")))
    body = {
        "status": "unhealthy" if failing else "ok",
        "database": database,
        "scheduler": {
            "state": scheduler,  # running | silent | absent (no scheduler holds the lock) | unknown
            "heartbeat_age_seconds": None if age is None else round(age, 1),
            "max_heartbeat_age_seconds": settings.health_max_heartbeat_age,
            "expected": settings.health_scheduler,
        },
    }
    return body, 503 if failing else 200


def metrics() -> Response:
    """The Prometheus text exposition of this deployment's figures (prometheus_client renders it)."""
    refused = _refusal(clock.settings())
    if refused is not None:
        return refused
    store = get_store()
    catalogue, now = clock.catalogue(), clock.now()
    reads = clock.kommune(store, (catalogue, now))
    kostra = clock.kostra()
    snap = snapshot(catalogue, reads, store, now, kostra_fetched=kostra is not None and bool(kostra.fetched_series))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snap))
    response = Response(generate_latest(registry), mimetype=None, content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refusal(settings: Settings) -> Response | None:
    """None when this request may read /metrics (MONITOR_METRICS_ACCESS); else the 401 or 403 to answer with.

    `addresses` compares the client's address (behind MONITOR_TRUSTED_PROXIES proxies, the one ProxyFix found) with
    MONITOR_METRICS_ALLOW. With no trusted proxy, a request that came through a proxy (X-Forwarded-For, Forwarded,
    X-Real-IP) is refused: its address is the proxy's, often this machine's own.
    """
    if settings.metrics_access == "open":
        return None
    if settings.metrics_access == "token":
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return None
        response = _plain("/metrics krever et gyldig token (Authorization: Bearer …)\n", 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if settings.trusted_proxies == 0 and any(name in request.headers for name in FORWARDED):
        return _plain("/metrics svarer ikke gjennom en mellomtjener (proxy) uten MONITOR_TRUSTED_PROXIES\n", 403)
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return _plain("/metrics: ukjent klientadresse\n", 403)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    networks: list[Network] = current_app.extensions[_NETWORKS]
    if any(address in network for network in networks):
        return None
    return _plain(f"/metrics er ikke åpen for {address} (MONITOR_METRICS_ALLOW)\n", 403)


def _plain(text: str, status: int) -> Response:
    return Response(text, status=status, content_type="text/plain; charset=utf-8")
