"""CLI commands for running the service: `check`, `schedule`, `serve` and `run` (scheduler + web together)."""

from __future__ import annotations

import errno
import json
import logging
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Protocol
from zoneinfo import ZoneInfo

import click

from monitor.cli.context import current_settings as _settings, local_now as _now
from monitor.evaluate.assessment import evaluate_all
from monitor.cli.alerts import alerts_after_fetch
from monitor.cli.backup import scheduled_backup_job
from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.core.errors import MonitorError
from monitor.core.logs import TEXT_FORMAT, setup_logging
from monitor.evaluate.indicator import STATE_WORDS, TARGET_WORDS, State
from monitor.report.controls import control_summaries
from monitor.store.fetchrequests import run_pending
from monitor.catalogue.kostra import KostraCatalogue, kostra_path_for, load_kostra
from monitor.service.lock import acquire, heartbeat, release
from monitor.service.scheduler import build_scheduler
from monitor.core.settings import Settings
from monitor.sources.registry import Catalogues, label, run_fetch, scheduled_sources
from monitor.store.database import Store

log = logging.getLogger("monitor")
FAILING = (State.LATE, State.FETCH_FAILING)


class WebServer(Protocol):
    """What `monitor serve` and `monitor run` use of a waitress server."""

    def run(self) -> None: ...
    def close(self) -> None: ...


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def check(fmt: str) -> None:
    """Vurder alle indikatorer nå; kode 0 når ingen er forsinket eller feiler, ellers 1 (for cron/overvåking)."""
    settings = _settings()
    catalogue = load_catalogue(settings.catalogue)
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        now = _now(settings)
        evaluations = evaluate_all(catalogue, store, now.date(), now, ZoneInfo(settings.timezone))
        controls = control_summaries(catalogue, store)  # each control figure beside its value (issue 20)
    if fmt == "json":
        click.echo(json.dumps([{**e.as_dict(), "control": controls.get(e.id)} for e in evaluations],
                              ensure_ascii=False, indent=2))
    else:
        for e in evaluations:
            late = f" ({e.late_days} d)" if e.late_days else ""
            click.echo(f"{e.id:40} {STATE_WORDS[e.state] + late:22} {TARGET_WORDS[e.target_status]:12} {e.explanation}")
    failing = [e for e in evaluations if e.state in FAILING]
    if failing:
        click.echo(f"{len(failing)} av {len(evaluations)} indikatorer er forsinket eller feiler.", err=True)
        click.get_current_context().exit(1)


@click.command()
@click.option("--under-run", "under_run", is_flag=True, hidden=True,
              help="Startet av `monitor run`: Ctrl-C er forelderens, som stopper planleggeren med SIGTERM.")
def schedule(under_run: bool) -> None:
    """Kjør planleggeren (én prosess per database): henter kildene daglig og tar igjen tapte kjøringer."""
    settings = _settings()
    setup_logging(settings.log_format, logging.INFO, TEXT_FORMAT)
    catalogue = load_catalogue(settings.catalogue)
    zone = ZoneInfo(settings.timezone)
    store = Store(settings.db, create=False)
    store.require_current_schema()
    acquire(store, _now(settings))

    fetching = threading.Lock()  # the daily job and a fetch asked for in the UI never run at once

    kostra = _kostra_to_fetch(settings)

    def run_source(source: str) -> None:
        with fetching:
            run_scheduled_fetch(settings, catalogue, kostra, source)

    def beat() -> None:
        with Store(settings.db, create=False) as beating:
            heartbeat(beating, _now(settings))

    known = set(scheduled_sources(Catalogues(catalogue, kostra)))

    def requested() -> None:
        with Store(settings.db, create=False) as request_store:
            done = run_pending(request_store, lambda source: run_source(source) if source in known else None,
                               lambda: _now(settings))
        for request in done:
            log.info("henting av %s bestilt av %s er utført", request.source, request.requested_by)

    scheduler = build_scheduler(
        store, run_source, now=_now(settings), timezone=zone, sources=known, heartbeat=beat, requests=requested,
        backup=scheduled_backup_job(settings),
    )

    # Under `monitor run`, Ctrl-C reaches the whole process group: the parent stops this child with SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN if under_run else signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    click.echo(f"Planleggeren kjører mot {settings.db}" + ("." if under_run else " (Ctrl-C stopper)."))
    try:
        scheduler.start()
    except KeyboardInterrupt:
        pass
    finally:
        _ignore_interrupts()  # a second Ctrl-C or SIGTERM must not cut the lock's release short
        release(store)
        store.close()
        if under_run:
            log.info("Planleggeren er stoppet.")  # the parent says the one line the user sees
        else:
            click.echo("Planleggeren er stoppet.")


def run_scheduled_fetch(
    settings: Settings, catalogue: Catalogue, kostra: KostraCatalogue | None, source: str,
    *, alerts: Callable[[Settings, Catalogue], object] | None = None,
) -> None:
    """The scheduler's job for one source: the run (each table committed on its own, each failure recorded), then
    the alerts, which run even when the run itself broke."""
    try:
        with Store(settings.db, create=False) as job_store:
            report = run_fetch(settings, catalogue, job_store, source, kostra=kostra)
    except Exception:  # the run broke outside any table (every table's own error is in its report): log, go on
        log.exception("%s: kjøringen stoppet", label(source), extra={"source": source, "outcome": "failed"})
    else:
        for table in report.failed:
            log.error("%s %s: %s", label(source), table.table, table.error,
                      extra={"run_id": table.run_id, "source": source, "table": table.table, "outcome": "failed"})
        log.info("%s: %d tabeller, %d feilet, %d forespørsler", source, len(report.tables), len(report.failed),
                 report.requests, extra={"source": source, "outcome": "failed" if report.failed else "ok",
                                         "tables": len(report.tables), "failed": len(report.failed),
                                         "requests": report.requests})
    (alerts or alerts_after_fetch)(settings, catalogue)  # e-mail what changed (no-op without MONITOR_SMTP_HOST)


def _kostra_to_fetch(settings: Settings) -> KostraCatalogue | None:
    """kostra.yaml next to the catalogue when it has rows to fetch from SSB; None otherwise (no KOSTRA job)."""
    path = kostra_path_for(settings.catalogue)
    if not path.exists():
        log.info("%s finnes ikke: KOSTRA-sammenligningen hentes ikke", path)
        return None
    kostra = load_kostra(path)
    return kostra if kostra.fetched_series else None


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Kjør nettsidene alene med en produksjonsserver (waitress); starter aldri planleggeren."""
    settings = _settings()
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
    _serve(listen(settings, host, port), host, port)


def listen(settings: Settings, host: str, port: int) -> WebServer:
    """The web app's waitress server on host:port. The address is bound before the app is built, so a busy or
    forbidden port stops at once with one line in bokmål (a MonitorError); the OSError itself goes to the log."""
    from waitress import create_server

    from web import create_app

    setup_logging(settings.log_format)  # as waitress.serve does: its own warnings reach stderr
    sockets = bind(host, port)
    try:
        server: WebServer = create_server(create_app(settings), sockets=sockets, threads=8)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return server


def bind(host: str, port: int) -> list[socket.socket]:
    """A bound socket for each address host:port names (as waitress resolves it), or a MonitorError."""
    from waitress.adjustments import Adjustments

    try:
        wanted = Adjustments(host=host, port=port).listen
    except ValueError as exc:
        log.debug("kan ikke slå opp %s:%s", host, port, exc_info=exc)
        raise MonitorError(f"adressen {host}:{port} finnes ikke; velg en annen med --host eller --port") from None
    bound: list[socket.socket] = []
    try:
        for family, kind, proto, address in wanted:
            sock = socket.socket(family, kind, proto)
            bound.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
    except OSError as exc:
        for sock in bound:
            sock.close()
        log.debug("kan ikke lytte på %s:%s", host, port, exc_info=exc)
        if exc.errno == errno.EADDRINUSE:
            raise MonitorError(f"port {port} er i bruk på {host}; stopp det som bruker den, "
                               "eller velg en annen port med --port") from None
        if exc.errno == errno.EACCES:
            raise MonitorError(f"port {port} på {host} krever rettigheter denne brukeren ikke har; "
                               "velg en port over 1023 med --port") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise MonitorError(f"adressen {host} finnes ikke på denne maskinen; velg en annen med --host") from None
        code = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
        raise MonitorError(f"kan ikke lytte på {host}:{port} ({code}); velg en annen adresse med --host eller --port") from None
    return bound


def _serve(server: WebServer, host: str, port: int) -> None:
    click.echo(f"Nettsidene svarer på http://{host}:{port}/ (Ctrl-C stopper).")
    try:
        server.run()
    finally:
        server.close()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ignore_interrupts() -> None:
    """While stopping: Ctrl-C and SIGTERM are already being acted on, so a repeated one changes nothing."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Kjør tjenesten: planleggeren som egen prosess og nettsidene, med én kommando. Ctrl-C stopper begge."""
    settings = _settings()
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
    # Ctrl-C (also when started in the background, where SIGINT starts out ignored) and SIGTERM stop both.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    server = listen(settings, host, port)  # before the scheduler: a busy port starts nothing
    scheduler: subprocess.Popen[bytes] | None = None
    try:
        # SIGINT ignored from the start (inherited through exec), so a Ctrl-C while the child still imports is
        # no traceback either; `--under-run` keeps it ignored.
        scheduler = subprocess.Popen([sys.executable, "-m", "monitor.cli.main", "schedule", "--under-run"],
                                     preexec_fn=_ignore_sigint)
        try:
            scheduler.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass  # still running: good
        else:
            raise MonitorError(f"planleggeren startet ikke (kode {scheduler.returncode}); se meldingen over")
    except BaseException:
        server.close()
        if scheduler is not None:
            _stop(scheduler)
        raise
    try:
        _serve(server, host, port)
    except KeyboardInterrupt:
        pass
    finally:
        _ignore_interrupts()  # Ctrl-C reached the whole group: the rest of it must not abort the stop
        _stop(scheduler)
        click.echo("Tjenesten er stoppet.")
    if scheduler.returncode not in (0, -signal.SIGTERM):
        raise MonitorError(f"planleggeren stoppet med kode {scheduler.returncode}")


def _stop(scheduler: subprocess.Popen[bytes]) -> None:
    """SIGTERM the scheduler child and wait for it (it releases its lock); kill it after 30 s."""
    if scheduler.poll() is None:
        scheduler.send_signal(signal.SIGTERM)
        try:
            scheduler.wait(timeout=30)
        except subprocess.TimeoutExpired:
            scheduler.kill()
            scheduler.wait()
