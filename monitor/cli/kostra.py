"""`monitor kostra …` and `monitor export kostra`: the KOSTRA peer comparison of the handlingsprogram."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import json

import click

from monitor.cli.context import current_settings as _settings, login_name as _login_name
from monitor.cli.export import FORMATS, _write, export
from monitor.catalogue.indicators import load_catalogue
from monitor.core.errors import CatalogueError, MonitorError
from monitor.catalogue.kostra import KostraCatalogue, kostra_path_for, load_kostra
from monitor.report.kostra_export import render_kostra
from monitor.core.settings import Settings
from monitor.store.database import Store


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
        from monitor.sources.registry import check_online

        checked, problems = check_online(settings, load_catalogue(settings.catalogue), "ssb-kostra", kostra=catalogue)
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
    from monitor.seed.kostra import build_kostra_baseline_rows, write_kostra_baseline_csv

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
            catalogue, store, fmt, as_of.date() if as_of else None, year, datetime.now(zone), zone
        )
    tables = len(catalogue.areas)
    _write(out, content)
    click.echo(f"{out}: {tables} KOSTRA-tabeller for {chosen}, data per {data_per}.")


export.add_command(export_kostra)


@kostra.command("fetch")
@click.option("--table", "tables", multiple=True, help="Bare denne SSB-tabellen (kan gjentas).")
@click.option("--force", is_flag=True, help="Hent alle tabeller, også de SSB ikke har oppdatert siden sist.")
def fetch(tables: tuple[str, ...], force: bool) -> None:
    """Hent KOSTRA-tallene for alle regionene fra SSB: én forespørsel per endret tabell; kode 1 hvis en tabell feilet."""
    from monitor.sources.registry import run_fetch

    settings = _settings()
    _, catalogue = _kostra(settings)
    known = {series.table for _, series in catalogue.fetched_series}
    unknown = sorted(set(tables) - known)
    if unknown:
        raise MonitorError(f"ingen KOSTRA-rad bruker tabell {', '.join(unknown)} (brukes: {', '.join(sorted(known))})")
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        report = run_fetch(
            settings, load_catalogue(settings.catalogue), store, "ssb-kostra", kostra=catalogue, only=set(tables) or None,
            force=force,
        )
    words = {"ok": "nye verdier", "unchanged": "uendret"}
    for table in report.tables:
        if table.outcome != "failed":
            extra = f" ({table.new} nye verdier)" if table.new else ""
            click.echo(f"SSB KOSTRA {table.table}: {words[table.outcome]}{extra}")
    for table in report.failed:
        click.echo(f"FEIL SSB KOSTRA {table.table}: {table.error}", err=True)
    click.echo(f"{len(report.tables)} {'tabell' if len(report.tables) == 1 else 'tabeller'}, {len(report.failed)} feilet, "
               f"{report.requests} {'forespørsel' if report.requests == 1 else 'forespørsler'} til SSB.")
    if report.failed:
        click.get_current_context().exit(1)


@kostra.command("status")
@click.option("--year", type=int, help="Året rangeringen gjelder (standard: det siste året med tall for Asker).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def status(year: int | None, fmt: str) -> None:
    """Ferskhet og Askers plass for hver KOSTRA-rad; kode 1 når en rad fra SSB er forsinket eller hentingen feiler."""
    from monitor.evaluate.kostra import FRESHNESS_WORDS
    from monitor.report.kostra import kostra_json, kostra_pages

    settings = _settings()
    _, catalogue = _kostra(settings)
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        now = datetime.now(ZoneInfo(settings.timezone))
        data = kostra_json(catalogue, kostra_pages(catalogue, store, now, year), now)
    rows = [(area["name"], row) for area in data["areas"] for row in area["rows"]]
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for area, row in rows:
            fresh = row["freshness"]
            rank = row["rank"]
            place = f"{rank['position']} av {rank['of']}" if rank["position"] else "–"
            source = f"SSB {row['ssb_table']}" if row["ssb_table"] else "import"
            click.echo(f"{area[:18]:18} {row['id']:38} {FRESHNESS_WORDS[fresh['state']]:23} "
                       f"nyeste {fresh['newest_year'] or '–'}, ventet {fresh['expected_year']}  plass {place:6} {source}"
                       + (f"  FEIL: {fresh['fetch_error']}" if fresh["fetch_error"] else ""))
    failing = [row for _, row in rows if row["freshness"]["state"] in ("late", "failing")]
    if failing:
        click.echo(f"{len(failing)} av {len(rows)} KOSTRA-rader fra SSB er forsinket eller feiler.", err=True)
        click.get_current_context().exit(1)


@kostra.command("template")
@click.option("--year", type=int, required=True, help="Året tallene gjelder.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="CSV-filen malen skrives til.")
def template(year: int, out: Path) -> None:
    """En CSV-mal med KOSTRA-tallene SSB-hentingen ikke gir for året (rader uten SSB-serie, ASSS, justerte tall)."""
    from monitor.imports.kostra import render_template_csv, template_lines

    if not 2015 <= year <= 2100:
        raise MonitorError(f"året {year} er ikke gyldig for KOSTRA (fra 2015)")
    settings = _settings()
    _, catalogue = _kostra(settings)
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        lines = template_lines(catalogue, store, year)
    _write(out, render_template_csv(lines))
    click.echo(f"{out}: {len(lines)} linjer å fylle ut for {year} ({len({line.row.id for line in lines})} KOSTRA-rader).")


@kostra.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--by", "actor", help="Hvem som importerer (ellers MONITOR_IMPORT_BY eller brukernavnet).")
def import_(file: Path, actor: str | None) -> None:
    """Importer KOSTRA-tall fra en utfylt mal (CSV eller XLSX): alt eller ingenting, feil med fil og linje."""
    from monitor.imports.kostra import import_kostra_file

    settings = _settings()
    _, catalogue = _kostra(settings)
    now = datetime.now(ZoneInfo(settings.timezone))
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        result = import_kostra_file(store, catalogue, file, now=now, actor=actor or settings.import_by or _login_name())
    if result.run_id is None:
        click.echo(f"{file}: {result.rows} rader, ingen endring (filen er importert før, eller tallene er de samme).")
    else:
        click.echo(f"{file}: {result.rows} rader, {result.new_vintages} nye verdier for {', '.join(result.periods)}.")

