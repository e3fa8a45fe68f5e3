"""`monitor kostra …` and `monitor export kostra`: the KOSTRA peer comparison of the handlingsprogram."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from monitor.cli_export import FORMATS, _write, export
from monitor.catalogue import load_catalogue
from monitor.errors import CatalogueError, MonitorError
from monitor.kostra import KostraCatalogue, kostra_path_for, load_kostra
from monitor.kostra_export import render_kostra
from monitor.settings import Settings
from monitor.store import Store


def _settings() -> Settings:
    settings = click.get_current_context().find_root().obj
    assert isinstance(settings, Settings)
    return settings


def _kostra(settings: Settings, path: Path | None = None) -> tuple[Path, KostraCatalogue]:
    path = path or kostra_path_for(settings.catalogue)
    return path, load_kostra(path)


@click.group()
def kostra() -> None:
    """KOSTRA-sammenligningen: Asker mot Bærum, Drammen, Lillestrøm, ASSS og KOSTRA-gruppe 12."""


@kostra.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--online", is_flag=True, help="Sjekk også hver SSB-serie mot tabellenes metadata hos SSB (krever nett).")
def validate(path: Path | None, online: bool) -> None:
    """Sjekk kostra.yaml; skriver alle feil med fil, linje, rad og felt."""
    settings = _settings()
    path, catalogue = _kostra(settings, path)
    unknown = catalogue.unknown_indicators({indicator.id for indicator in load_catalogue(settings.catalogue).indicators})
    if unknown:
        raise CatalogueError([f"{path}: {problem}" for problem in unknown])
    fetched = catalogue.fetched_series
    tables = sorted({series.table for _, series in fetched})
    click.echo(
        f"{path}: gyldig – {len(catalogue.rows)} KOSTRA-rader i {len(catalogue.areas)} tjenesteområder, "
        f"{len(catalogue.regions)} regioner; {len(fetched)} rader hentes fra SSB ({len(tables)} tabeller: "
        f"{', '.join(tables)})."
    )
    if online:
        from monitor.kostra_fetch import run_kostra_check

        checked, problems = run_kostra_check(settings, catalogue)
        for problem in problems:
            click.echo(problem, err=True)
        click.echo(f"SSB: {checked} KOSTRA-tabeller sjekket mot metadata hos {settings.ssb_url}; {len(problems)} avvik.")
        if problems:
            click.get_current_context().exit(1)


@kostra.command("baseline-build")
@click.option("--seed", "seed_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
def baseline_build(seed_path: Path, out_path: Path) -> None:
    """Bygg KOSTRA-grunnlinjefila fra handlingsprogrammets tekst (for utviklere)."""
    from monitor.kostra_seed import build_kostra_baseline_rows, write_kostra_baseline_csv

    _, catalogue = _kostra(_settings())
    rows = build_kostra_baseline_rows(seed_path.read_text(encoding="utf-8"), catalogue)
    write_kostra_baseline_csv(rows, out_path)
    click.echo(f"{out_path}: {len(rows)} celler.")


@click.command("kostra")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Slik dataene sto denne dagen.")
@click.option("--year", type=int, help="Tabellenes år (standard: det siste året med KOSTRA-tall for Asker).")
def export_kostra(fmt: str, out: Path, as_of: datetime | None, year: int | None) -> None:
    """KOSTRA-tabellene i handlingsprogrammets oppsett, ett per tjenesteområde."""
    settings = _settings()
    zone = ZoneInfo(settings.timezone)
    _, catalogue = _kostra(settings)
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        content, data_per, chosen = render_kostra(
            catalogue, store, fmt, as_of.date() if as_of else None, year, datetime.now(zone).date(), zone
        )
    tables = len(catalogue.areas)
    _write(out, content)
    click.echo(f"{out}: {tables} KOSTRA-tabeller for {chosen}, data per {data_per}.")


export.add_command(export_kostra)


@kostra.command("fetch")
@click.option("--table", "tables", multiple=True, help="Bare denne SSB-tabellen (kan gjentas).")
def fetch(tables: tuple[str, ...]) -> None:
    """Hent KOSTRA-tallene for alle regionene fra SSB: én forespørsel per tabell; kode 1 hvis en tabell feilet."""
    from monitor.kostra_fetch import run_kostra_fetch

    settings = _settings()
    _, catalogue = _kostra(settings)
    known = {series.table for _, series in catalogue.fetched_series}
    unknown = sorted(set(tables) - known)
    if unknown:
        raise MonitorError(f"ingen KOSTRA-rad bruker tabell {', '.join(unknown)} (brukes: {', '.join(sorted(known))})")
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        report = run_kostra_fetch(settings, catalogue, store, set(tables) or None)
    words = {"ok": "nye verdier", "unchanged": "uendret"}
    for table in report.tables:
        if table.outcome != "failed":
            extra = f" ({table.new} nye verdier)" if table.new else ""
            click.echo(f"SSB KOSTRA {table.table}: {words[table.outcome]}{extra}")
    for table in report.failed:
        click.echo(f"FEIL SSB KOSTRA {table.table}: {table.error}", err=True)
    click.echo(f"{len(report.tables)} tabeller, {len(report.failed)} feilet, {report.requests} forespørsler til SSB.")
    if report.failed:
        click.get_current_context().exit(1)
