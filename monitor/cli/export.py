"""`monitor export`: the årsrapport tables and the evaluation, as XLSX, CSV or HTML, as of any date."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from monitor.cli.context import current_settings as _settings
from monitor.evaluate.assessment import evaluate_all
from monitor.catalogue.indicators import load_catalogue
from monitor.evaluate.indicator import STATE_WORDS, TARGET_WORDS
from monitor.report.formats import BOM, render_arsrapport
from monitor.core.numbers import format_value
from monitor.store.database import Store

FORMATS = ("xlsx", "csv", "html")


@click.group()
def export() -> None:
    """Eksporter tabeller til årsrapporten og evalueringen til ledergruppen."""


@export.command("arsrapport")
@click.option("--from", "first", type=int, required=True, help="Første år, f.eks. 2019.")
@click.option("--to", "last", type=int, required=True, help="Siste år, f.eks. 2022.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Slik dataene sto denne dagen.")
def arsrapport(first: int, last: int, fmt: str, out: Path, as_of: datetime | None) -> None:
    """Satsingsområdenes indikatortabeller i handlingsprogrammets oppsett."""
    settings = _settings()
    zone = ZoneInfo(settings.timezone)
    catalogue = load_catalogue(settings.catalogue)
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        content, data_per = render_arsrapport(
            catalogue, store, first, last, fmt, as_of.date() if as_of else None, datetime.now(zone).date(), zone
        )
    _write(out, content)
    click.echo(f"{out}: data per {data_per}.")


@export.command("evaluering")
@click.option("--format", "fmt", type=click.Choice(("csv", "html")), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def evaluering(fmt: str, out: Path) -> None:
    """Indikator, siste verdi, mål, tilstand og forklaring for hver indikator."""
    settings = _settings()
    zone = ZoneInfo(settings.timezone)
    now = datetime.now(zone)
    catalogue = load_catalogue(settings.catalogue)
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        evaluations = evaluate_all(catalogue, store, now.date(), now, zone)
    header = ["Indikator", "Periode", "Siste verdi", "Mål", "Tilstand", "Måloppnåelse", "Forklaring"]
    rows = []
    for e in evaluations:
        indicator = catalogue.get(e.id)
        value = format_value(e.latest_value, indicator.decimals, indicator.symbol) if e.latest_value is not None else ""
        target = indicator.target.text if indicator.target else ""
        state = STATE_WORDS[e.state] + (f" ({e.late_days} dager)" if e.late_days else "")
        rows.append([e.name, e.latest_value_period or "", value, target, state, TARGET_WORDS[e.target_status], e.explanation])
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerows([header, *rows])
        _write(out, (BOM + buffer.getvalue()).encode("utf-8"))
    else:
        _write(out, _evaluation_html(header, rows, now.date()).encode("utf-8"))
    click.echo(f"{out}: {len(rows)} indikatorer.")


def _evaluation_html(header: list[str], rows: list[list[str]], day: date) -> str:
    from html import escape

    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in header)
    body = "".join(
        "<tr>" + f'<th scope="row">{escape(r[0])}</th>' + "".join(f"<td>{escape(c)}</td>" for c in r[1:]) + "</tr>"
        for r in rows
    )
    return (f'<!doctype html><html lang="nb"><head><meta charset="utf-8"><title>Evaluering</title></head><body><main>'
            f"<table><caption>Indikatorer – evaluering per {day.strftime('%d.%m.%Y')}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></main></body></html>\n")


def _write(out: Path, content: bytes) -> None:
    """Write via a temporary file and a rename, so a crash never leaves half an export."""
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    temporary.write_bytes(content)
    temporary.replace(out)
