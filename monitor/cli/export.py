"""`monitor export`: the årsrapport tables and the evaluation, as XLSX, CSV or HTML, as of any date."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from monitor.cli.context import current_settings as _settings
from monitor.catalogue.indicators import load_catalogue
from monitor.report.evaluation_export import render_evaluering
from monitor.report.formats import arsrapport_years, nothing_known, render_arsrapport
from monitor.report.dataset import known_by_end_of
from monitor.report.observations import write_csv, write_xlsx
from monitor.store.database import Store

FORMATS = ("xlsx", "csv", "html")


@click.group()
def export() -> None:
    """Eksporter tabeller til årsrapporten og evalueringen til ledergruppen."""


@export.command("arsrapport")
@click.option("--from", "first", type=int, help="Første år (standard: det første året med tall).")
@click.option("--to", "last", type=int, help="Siste år (standard: det siste året med tall, minst planperiodens siste).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Slik dataene sto denne dagen.")
@click.option("--progress", is_flag=True, help="Ta med en kolonne for fremgangen mot målet (Fremgang).")
def arsrapport(first: int | None, last: int | None, fmt: str, out: Path, as_of: datetime | None, progress: bool) -> None:
    """Satsingsområdenes indikatortabeller i handlingsprogrammets oppsett."""
    settings = _settings()
    zone = ZoneInfo(settings.timezone)
    catalogue = load_catalogue(settings.catalogue)
    day = as_of.date() if as_of else None
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        default_first, default_last = arsrapport_years(catalogue, store, day, zone)
        first = default_first if first is None else first
        last = max(default_last, first) if last is None else last
        content, data_per = render_arsrapport(catalogue, store, first, last, fmt, day, datetime.now(zone), zone,
                                              progress=progress)
        notice = nothing_known(catalogue, store, day, zone)
    _write(out, content)
    click.echo(f"{out}: {first}–{last}, data per {data_per}.")
    if notice:
        click.echo(f"Merk: {notice}.", err=True)


@export.command("evaluering")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def evaluering(fmt: str, out: Path) -> None:
    """Indikator, siste verdi, mål, tilstand og forklaring for hver indikator, per satsingsområde."""
    settings = _settings()
    zone = ZoneInfo(settings.timezone)
    catalogue = load_catalogue(settings.catalogue)
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        content, count = render_evaluering(catalogue, store, fmt, datetime.now(zone), zone)
    _write(out, content)
    click.echo(f"{out}: {count} indikatorer.")


@export.command("observations")
@click.option("--format", "fmt", type=click.Choice(("csv", "xlsx")), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Bare det som var kjent denne dagen.")
def observations(fmt: str, out: Path, as_of: datetime | None) -> None:
    """Alle lagrede versjoner av alle indikatorene, én rad hver, for analytikere."""
    settings = _settings()
    catalogue = load_catalogue(settings.catalogue)
    known_by = known_by_end_of(as_of.date(), ZoneInfo(settings.timezone)) if as_of else None
    write = write_csv if fmt == "csv" else write_xlsx
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        try:
            count = write(catalogue, store, temporary, known_by)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    temporary.replace(out)
    click.echo(f"{out}: {count} rader" + (f", slik dataene var kjent {as_of.date().isoformat()}." if as_of else "."))


def _write(out: Path, content: bytes) -> None:
    """Write via a temporary file and a rename, so a crash never leaves half an export."""
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    temporary.write_bytes(content)
    temporary.replace(out)
