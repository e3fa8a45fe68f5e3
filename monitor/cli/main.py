"""The `monitor` command line: the only place that reads the clock and the environment for the domain code."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from monitor import __version__
from monitor.cli.context import local_now as _now, login_name as _login_name
from monitor.alerts.startup import arm_startup_summary
from monitor.seed.baseline import load_baseline
from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.core.errors import MonitorError, ProblemListError
from monitor.imports.indicators import FORMATS, ImportResult, import_file
from monitor.imports.nkom import INDICATORS as NKOM_INDICATORS, SOURCE as NKOM_SOURCE
from monitor.seed.kostra_baseline import kostra_next_to, load_kostra_baseline
from monitor.sources.feeds import feeds
from monitor.sources.registry import INDICATOR_SOURCES, check_online, run_fetch, sources_used
from monitor.core.settings import Settings, load_settings
from monitor.report.status import status_rows
from monitor.store.database import Store


class MonitorGroup(click.Group):
    """A click group that turns MonitorError into a clear message and its `exit_code`, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ProblemListError as exc:
            for problem in exc.problems:
                click.echo(problem, err=True)
            click.echo(f"{len(exc.problems)} feil funnet; ingenting ble endret.", err=True)
            ctx.exit(exc.exit_code)
        except MonitorError as exc:
            click.echo(f"Feil: {exc}", err=True)
            ctx.exit(exc.exit_code)


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


@click.group(cls=MonitorGroup)
@click.version_option(__version__, prog_name="monitor")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Overvåker indikatorene i Asker kommunes handlingsprogram."""
    ctx.obj = load_settings()


@cli.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--online", is_flag=True, help="Sjekk også hver henting mot tabellene hos kildene (krever nett).")
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
        found = 0
        for name in sources_used(catalogue):
            spec = INDICATOR_SOURCES[name]
            url = spec.url(settings)
            tables, problems = check_online(settings, catalogue, name)
            for problem in problems:
                click.echo(problem, err=True)
            for note in getattr(problems, "notes", []):  # what the check resolved, no deviation (online.Findings)
                click.echo(note)
            click.echo(f"{spec.label}: {tables} tabeller sjekket mot {spec.checked_against} hos {url}; {len(problems)} avvik.")
            found += len(problems)
        if found:
            ctx.exit(1)


@cli.command()
@click.option("--source", type=click.Choice(list(INDICATOR_SOURCES)), default=None, help="Bare denne kilden (standard: alle).")
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
        known = sorted(only - set(unknown))
        problems = [f"ukjent indikator-id {i!r}" for i in unknown]
        for i in known:
            # its value's fetch block and its control figure's (an imported value may have one fetched beside it)
            kinds = [f.fetch.kind for f in feeds(catalogue, only={i}) if f.fetch.kind in INDICATOR_SOURCES]
            if not kinds:
                problems.append(f"{i}: hentes ikke fra en kilde med API ({catalogue.get(i).path})")
            elif source is not None and source not in kinds:
                problems.append(
                    f"{i}: hentes fra {INDICATOR_SOURCES[kinds[0]].label}, ikke {INDICATOR_SOURCES[source].label}"
                )
        if problems:
            raise ProblemListError(problems)
    names = [source] if source is not None else sources_used(catalogue, only)
    failed = 0
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        for name in names:
            failed += _fetch_one(settings, catalogue, store, name, force=force, only=only)
    if failed:
        ctx.exit(1)


def _fetch_one(
    settings: Settings, catalogue: Catalogue, store: Store, name: str, *, force: bool, only: set[str] | None
) -> int:
    """One run of one source, reported one line per table; returns the number of tables that failed."""
    spec = INDICATOR_SOURCES[name]
    with ProgressDisplay(f"Henter {spec.label}-tabeller", threshold=1) as progress:
        report = run_fetch(settings, catalogue, store, name, force=force, only=only, progress=progress)
    words = {"ok": "nye verdier", "unchanged": "uendret", "failed": "FEILET"}
    for table in report.tables:
        if table.outcome != "failed":
            extra = f" ({table.new} nye verdier)" if table.new else ""
            flag = f" – ADVARSEL: tabellen er avsluttet (discontinued) hos {spec.label}" if table.discontinued else ""
            click.echo(f"{spec.label} {table.table}: {words[table.outcome]}{extra}{flag}")
    for table in report.failed:
        click.echo(f"FEIL {spec.label} {table.table}: {table.error}", err=True)
    click.echo(
        f"{len(report.tables)} {'tabell' if len(report.tables) == 1 else 'tabeller'}, {len(report.failed)} feilet, "
        f"{report.requests} {'forespørsel' if report.requests == 1 else 'forespørsler'} til {spec.label}."
    )
    return len(report.failed)


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Opprett eller migrer databasen (MONITOR_DB) og last inn grunnlinjen. Kan kjøres flere ganger."""
    settings = _settings(ctx)
    catalogue = load_catalogue(settings.catalogue)
    kostra = kostra_next_to(settings.catalogue)
    with Store(settings.db) as store:
        applied = store.migrate()
        arm_startup_summary(store)  # the first alert run sends one summary per recipient (docs/alerts.md)
        new = load_baseline(store, catalogue, _now(settings), settings.baseline)
        kostra_new = load_kostra_baseline(store, kostra, _now(settings)) if kostra is not None else None
    migrated = f"migrerte til skjemaversjon {applied[-1]}" if applied else "skjemaet var oppdatert"
    click.echo(f"{settings.db}: {migrated}; grunnlinjen «Handlingsprogram 2024–2027»: {new} nye verdier.")
    if kostra_new is not None:
        click.echo(f"KOSTRA-grunnlinjen «Handlingsprogram 2024–2027»: {kostra_new} nye verdier.")


@cli.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--by", "actor", help="Hvem som importerer (ellers MONITOR_IMPORT_BY eller brukernavnet).")
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
    help="standard: importformatet (CSV/XLSX); miljodir: Miljødirektoratets utslippsstatistikk_alle_kommuner.xlsx; "
         "nkom: Nkoms årlige vedlegg_dekning_og_abonnement_1hÅÅÅÅ.xlsx (bredbånd, fiber, 5G). auto kjenner igjen begge.",
)
@click.option(
    "--bridge", is_flag=True,
    help="Manuell bro: tillat tall for indikatorer som hentes fra SSB/FHI mens kilden ikke kan nås "
         "(lagres som «Manuelt lagt inn»; neste hentede tall for samme periode tar over).",
)
@click.pass_context
def import_command(ctx: click.Context, file: Path, actor: str | None, fmt: str, bridge: bool) -> None:
    """Importer en CSV- eller XLSX-fil (indicator_id;period;value …), Miljødirektoratets utslippsfil eller Nkoms dekningsfil; alt eller ingenting."""
    settings = _settings(ctx)
    catalogue = load_catalogue(settings.catalogue)
    who = actor or settings.import_by or _login_name()
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        if file.is_file() and file.stat().st_size > 2 * 1024 * 1024:
            click.echo(f"Leser {file} ({file.stat().st_size // (1024 * 1024)} MB); en stor Excel-fil kan ta et minutt …", err=True)
        with ProgressDisplay("Kontrollerer rader") as progress:
            result = import_file(
                store, catalogue, file, now=_now(settings), actor=who, progress=progress, fmt=fmt, bridge=bridge
            )
    click.echo(_import_summary(file, result, who))


def _import_summary(file: Path, result: ImportResult, who: str) -> str:
    what = f"{result.rows} {'rad' if result.rows == 1 else 'rader'}"
    if result.source == NKOM_SOURCE and result.periods:
        what = f"Nkom {result.periods[0]}, {what}"
    elif result.source != "import" and result.periods:
        what = f"Miljødirektoratet, {len(result.periods)} år ({result.periods[0]}–{result.periods[-1]})"
    skipped = ""
    if result.skipped:
        shown = ", ".join(str(line) for line in result.skipped[:10]) + (" …" if len(result.skipped) > 10 else "")
        skipped = f"; {len(result.skipped)} {'tom rad' if len(result.skipped) == 1 else 'tomme rader'} uten verdi eller status hoppet over ({shown})"
    if result.run_id is None:
        return f"{file}: {what}, ingen endringer – ingenting lagret{skipped}."
    return (f"{file}: {what}, {result.new_vintages} {'ny verdi' if result.new_vintages == 1 else 'nye verdier'} lagret (kjøring {result.run_id}, av {who}, "
            f"sha256 {result.sha256[:12]}…){skipped}.")


@cli.command()
@click.argument("source", required=False)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default=None,
              help="Filformat (standard: fra --out, ellers xlsx).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Filen malen skrives til.")
@click.option("--list", "list_sources", is_flag=True, help="Vis kildene som har importmal, med kortnavn.")
@click.option("--force", is_flag=True, help="Overskriv filen om den finnes.")
@click.pass_context
def template(ctx: click.Context, source: str | None, fmt: str | None, out: Path | None, list_sources: bool, force: bool) -> None:
    """Lag en importmal (XLSX eller CSV) for en kilde uten API, med indikatorene, periodene og siste verdier."""
    from monitor.imports.miljodir import INDICATOR as MILJODIR_INDICATOR
    from monitor.imports.templates import find_source, held_values, import_sources, template_rows, write_template

    settings = _settings(ctx)
    catalogue = load_catalogue(settings.catalogue)
    if list_sources:
        for item in import_sources(catalogue):
            click.echo(f"{item.slug:40}  {len(item.indicators):2} indikator(er)  {item.name}")
        return
    if source is None:
        raise click.UsageError("oppgi en kilde (SOURCE), eller --list for å se kildene")
    chosen = find_source(catalogue, source)
    fmt = fmt or ("csv" if out is not None and out.suffix.lower() == ".csv" else "xlsx")
    out = out or Path(f"import-{chosen.slug}.{fmt}")
    if out.exists() and not force:
        raise MonitorError(f"{out} finnes fra før; velg en annen fil med --out, eller bruk --force")
    now = _now(settings)
    held: dict[str, Any] = {}
    if settings.db.exists():
        with Store(settings.db, create=False) as store:
            store.require_current_schema()
            held = held_values(store, catalogue)
    else:
        click.echo(f"Merk: ingen database i {settings.db}; malen viser ingen siste verdier.", err=True)
    rows = template_rows(chosen, held, now.year)
    write_template(out, fmt, chosen, rows, now.date(), catalogue.municipality.current_code)
    click.echo(
        f"{out}: mal for «{chosen.name}», {len(chosen.indicators)} indikator(er), {len(rows)} rader. "
        f"Fyll inn kolonnen value og kjør: monitor import {out}"
    )
    if any(indicator.id == MILJODIR_INDICATOR for indicator in chosen.indicators):
        click.echo("Tips: Miljødirektoratets egen fil kan importeres direkte: monitor import utslippsstatistikk_alle_kommuner.xlsx")
    if any(indicator.id in NKOM_INDICATORS for indicator in chosen.indicators):
        click.echo("Tips: Nkoms egen årlige fil kan importeres direkte: monitor import vedlegg_dekning_og_abonnement_1hÅÅÅÅ.xlsx")


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
    from monitor.seed.handlingsprogram import build_baseline_rows, write_baseline_csv

    catalogue = load_catalogue(_settings(ctx).catalogue)
    rows = build_baseline_rows(seed_path.read_text(encoding="utf-8"), catalogue)
    write_baseline_csv(rows, out_path)
    click.echo(f"{out_path}: {len(rows)} celler.")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="monitor")


def _register_service_commands() -> None:
    from monitor.cli.alerts import alerts, silence
    from monitor.cli.backup import backup, restore
    from monitor.cli.export import export
    from monitor.cli.kostra import kostra
    from monitor.cli.service import check, run, schedule, serve

    for command in (check, schedule, serve, run, export, alerts, silence, kostra, backup, restore):
        cli.add_command(command)
    from monitor.cli.users import user

    cli.add_command(user)
    from monitor.cli.catalogue import catalogue

    cli.add_command(catalogue)


_register_service_commands()

if __name__ == "__main__":
    main()
