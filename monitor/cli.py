"""The `monitor` command line: the only place that reads the clock and the environment for the domain code."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from monitor import __version__
from monitor.baseline import load_baseline
from monitor.catalogue import load_catalogue
from monitor.errors import MonitorError, ProblemListError
from fetchers.ssb import SsbClient
from monitor.imports import import_file
from monitor.online import check_ssb_online
from monitor.pipeline import fetch_ssb
from monitor.settings import Settings, load_settings
from monitor.status import status_rows
from monitor.store import Store


class MonitorGroup(click.Group):
    """A click group that turns MonitorError into a clear message and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ProblemListError as exc:
            for problem in exc.problems:
                click.echo(problem, err=True)
            click.echo(f"{len(exc.problems)} feil funnet; ingenting ble endret.", err=True)
            ctx.exit(2)
        except MonitorError as exc:
            click.echo(f"Feil: {exc}", err=True)
            ctx.exit(1)


class ProgressDisplay:
    """A progress bar on stderr for long work; called with (done, total). Shown once work is large."""

    def __init__(self, label: str, threshold: int = 2000) -> None:
        self.label = label
        self.threshold = threshold
        self._bar: Any = None
        self._done = 0

    def __enter__(self) -> ProgressDisplay:
        return self

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if total < self.threshold:
                return
            self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(done - self._done)
        self._done = done

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def _now(settings: Settings) -> datetime:
    return datetime.now(ZoneInfo(settings.timezone))


@click.group(cls=MonitorGroup)
@click.version_option(__version__, prog_name="monitor")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Overvåker indikatorene i Asker kommunes handlingsprogram."""
    ctx.obj = load_settings()


@cli.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--online", is_flag=True, help="Sjekk også hver SSB-spørring mot tabellens metadata hos SSB (krever nett).")
@click.pass_context
def validate(ctx: click.Context, path: Path | None, online: bool) -> None:
    """Sjekk katalogen (indicators.yaml); skriver alle feil med fil, linje, indikator og felt."""
    settings = _settings(ctx)
    path = path or settings.catalogue
    catalogue = load_catalogue(path)
    click.echo(
        f"{path}: gyldig – {len(catalogue.indicators)} indikatorer, {len(catalogue.placeholders)} plassholdere, "
        f"{len(catalogue.retired)} utgåtte."
    )
    if online:
        with SsbClient(settings.ssb_url, timeout=settings.http_timeout) as client:
            tables, problems = check_ssb_online(catalogue, client)
        for problem in problems:
            click.echo(problem, err=True)
        click.echo(f"SSB: {tables} tabeller sjekket mot metadata hos {settings.ssb_url}; {len(problems)} avvik.")
        if problems:
            ctx.exit(1)


@cli.command()
@click.option("--source", type=click.Choice(["ssb"]), default=None, help="Bare denne kilden (standard: alle).")
@click.option("--indicator", "indicator_ids", multiple=True, help="Bare denne indikatoren (kan gjentas).")
@click.option("--force", is_flag=True, help="Hent alle tabeller, også de kilden ikke har oppdatert.")
@click.pass_context
def fetch(ctx: click.Context, source: str | None, indicator_ids: tuple[str, ...], force: bool) -> None:
    """Hent data fra kildene med API; avslutter med kode 1 hvis en tabell feilet."""
    settings = _settings(ctx)
    catalogue = load_catalogue(settings.catalogue)
    only = set(indicator_ids) or None
    if only is not None:
        unknown = sorted(only - set(catalogue.by_id))
        fetched_elsewhere = sorted(i for i in only - set(unknown) if catalogue.get(i).fetch is None)
        if unknown or fetched_elsewhere:
            problems = [f"ukjent indikator-id {i!r}" for i in unknown] + [
                f"{i}: hentes ikke fra SSB ({catalogue.get(i).path})" for i in fetched_elsewhere
            ]
            raise ProblemListError(problems)
    with Store(settings.db, create=False) as store, SsbClient(settings.ssb_url, timeout=settings.http_timeout) as client:
        store.require_current_schema()
        with ProgressDisplay("Henter SSB-tabeller", threshold=1) as progress:
            report = fetch_ssb(
                catalogue, store, client, clock=lambda: _now(settings), raw_dir=settings.raw_dir,
                force=force, only=only, progress=progress,
            )
    words = {"ok": "nye verdier", "unchanged": "uendret", "failed": "FEILET"}
    for table in report.tables:
        if table.outcome != "failed":
            extra = f" ({table.new} nye verdier)" if table.new else ""
            flag = " – ADVARSEL: tabellen er avsluttet (discontinued) hos SSB" if table.discontinued else ""
            click.echo(f"SSB {table.table}: {words[table.outcome]}{extra}{flag}")
    for table in report.failed:
        click.echo(f"FEIL SSB {table.table}: {table.error}", err=True)
    click.echo(f"{len(report.tables)} tabeller, {len(report.failed)} feilet, {report.requests} forespørsler til SSB.")
    if report.failed:
        ctx.exit(1)


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Opprett eller migrer databasen (MONITOR_DB) og last inn grunnlinjen. Kan kjøres flere ganger."""
    settings = _settings(ctx)
    catalogue = load_catalogue(settings.catalogue)
    with Store(settings.db) as store:
        applied = store.migrate()
        new = load_baseline(store, catalogue, _now(settings))
    migrated = f"migrerte til skjemaversjon {applied[-1]}" if applied else "skjemaet var oppdatert"
    click.echo(f"{settings.db}: {migrated}; grunnlinjen «Handlingsprogram 2024–2027»: {new} nye verdier.")


@cli.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--by", "actor", help="Hvem som importerer (ellers MONITOR_IMPORT_BY eller brukernavnet).")
@click.pass_context
def import_command(ctx: click.Context, file: Path, actor: str | None) -> None:
    """Importer en CSV-fil med kolonnene indicator_id;period;value (alt eller ingenting)."""
    settings = _settings(ctx)
    catalogue = load_catalogue(settings.catalogue)
    who = actor or settings.import_by or _login_name()
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        with ProgressDisplay("Kontrollerer rader") as progress:
            result = import_file(store, catalogue, file, now=_now(settings), actor=who, progress=progress)
    if result.run_id is None:
        click.echo(f"{file}: {result.rows} rader, ingen endringer – ingenting lagret.")
    else:
        click.echo(f"{file}: {result.rows} rader, {result.new_vintages} nye verdier lagret (kjøring {result.run_id}).")


def _login_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except OSError:
        return "ukjent"


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def status(ctx: click.Context, fmt: str) -> None:
    """Vis siste periode, verdi eller status, kilde og innhentingsvei for hver indikator."""
    settings = _settings(ctx)
    catalogue = load_catalogue(settings.catalogue)
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        rows = status_rows(catalogue, store)
    if fmt == "json":
        click.echo(json.dumps([row.as_dict() for row in rows], ensure_ascii=False, indent=2))
        return
    header = ("Indikator", "Periode", "Verdi/status", "Kilde", "Vei")
    table = [(row.id, row.latest_period or "–", row.display, row.source, row.path) for row in rows]
    widths = [max(len(str(cells[i])) for cells in [header, *table]) for i in range(len(header))]
    for cells in [header, *table]:
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths)).rstrip())


@cli.command("baseline-build")
@click.option("--seed", "seed_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def baseline_build(ctx: click.Context, seed_path: Path, out_path: Path) -> None:
    """Bygg grunnlinjefila fra handlingsprogrammets tekst (for utviklere)."""
    from monitor.seed import build_baseline_rows, write_baseline_csv

    catalogue = load_catalogue(_settings(ctx).catalogue)
    rows = build_baseline_rows(seed_path.read_text(encoding="utf-8"), catalogue)
    write_baseline_csv(rows, out_path)
    click.echo(f"{out_path}: {len(rows)} celler.")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="monitor")
