"""`monitor template`: an import file pre-filled with one source's import indicators, as CSV or XLSX.

One row per indicator and expected period, with the value the monitor holds for it (`last_value`) and
empty cells to fill (`value`, `status`, `note`). The columns are the import format's, so a filled-in
template is imported as it is; the informative columns (`name`, `unit`, `allowed_range`, `frequency`,
`last_value`) are ignored by `monitor import`, and rows left empty are skipped.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from monitor.catalogue.indicators import Catalogue, Frequency, Indicator, Unit
from monitor.core.errors import MonitorError
from monitor.imports.indicators import describe_range, import_refusal
from monitor.imports.read import IMPORT_SHEET
from monitor.core.model import STATUS_WORDS, Vintage
from monitor.store.database import Store

COLUMNS = ("indicator_id", "name", "period", "last_value", "value", "status", "note", "unit", "allowed_range", "frequency")
FILL_IN = ("value", "status", "note")
WIDTHS = {"indicator_id": 30, "name": 60, "period": 10, "last_value": 12, "value": 12, "status": 14, "note": 30,
          "unit": 26, "allowed_range": 16, "frequency": 34}
GUIDE_SHEET = "Veiledning"
WAVES = {Frequency.BIENNIAL: 2, Frequency.TRIENNIAL: 3, Frequency.QUADRENNIAL: 4}
FREQUENCY_TEXT = {
    Frequency.ANNUAL: "årlig", Frequency.BIENNIAL: "hvert andre år", Frequency.TRIENNIAL: "hvert tredje år",
    Frequency.QUADRENNIAL: "hvert fjerde år", Frequency.SPORADIC: "sporadisk", Frequency.UNKNOWN: "ukjent",
}
UNIT_TEXT = {
    Unit.SHARE: "andel i prosent", Unit.PERCENT: "prosent", Unit.PERCENTAGE_POINTS: "prosentpoeng",
    Unit.COUNT: "antall", Unit.RATE: "rate", Unit.AMOUNT: "mengde", Unit.SCALE: "skår på skala",
    Unit.RANK: "plassering (1 er best)", Unit.INDEX: "indeks",
}
FREE_PERIOD_HINT = "skriv årstallet selv i period"


@dataclass(frozen=True)
class TemplateSource:
    """A source (the catalogue's Kilde text) and its indicators that are fed by import."""

    name: str
    slug: str
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class TemplateRow:
    """One row of a template: an indicator, an expected period ("" = the planner writes it) and what is held."""

    indicator: Indicator
    period: str
    held: Vintage | None


def slugify(name: str) -> str:
    """'Medarbeiderundersøkelsen, KS' → 'medarbeiderundersokelsen-ks'."""
    text = name.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def import_sources(catalogue: Catalogue) -> list[TemplateSource]:
    """Every source with at least one indicator fed by import, in catalogue order."""
    grouped: dict[str, list[Indicator]] = {}
    for indicator in catalogue.indicators:
        if import_refusal(indicator) is None:
            grouped.setdefault(indicator.source.name, []).append(indicator)
    return [TemplateSource(name, slugify(name), tuple(items)) for name, items in grouped.items()]


def find_source(catalogue: Catalogue, query: str) -> TemplateSource:
    """The source named `query` (its Kilde text, any case, or its slug)."""
    sources = import_sources(catalogue)
    for source in sources:
        if query.strip().casefold() == source.name.casefold() or slugify(query) == source.slug:
            return source
    fetched = {i.source.name.casefold() for i in catalogue.indicators if import_refusal(i) is not None}
    if query.strip().casefold() in fetched:
        raise MonitorError(f"kilden «{query}» hentes automatisk (SSB/FHI) og har ingen importmal")
    raise MonitorError(f"ukjent kilde «{query}»; `monitor template --list` viser kildene og kortnavnene deres")


def held_values(store: Store, catalogue: Catalogue) -> dict[str, dict[str, Vintage]]:
    """indicator id → period → the latest vintage, for the kommune's current code."""
    region = catalogue.municipality.current_code
    held: dict[str, dict[str, Vintage]] = {}
    for vintage in store.latest(region=region):
        held.setdefault(vintage.indicator_id, {})[vintage.period] = vintage
    return held


def expected_periods(indicator: Indicator, held: dict[str, Vintage], year: int) -> list[str]:
    """The periods a planner is asked for, up to `year`; "" stands for a period the planner writes.

    annual: every year from the first year held (or the last three) to `year`. biennial, triennial,
    quadrennial: the waves in step with the latest year that has a value, plus every year with a value.
    sporadic, unknown (or waves with no value yet): the years with a value, plus one free row.
    """
    years = sorted(int(period) for period in held if period.isdigit())
    with_value = sorted(int(p) for p, v in held.items() if p.isdigit() and v.value is not None)
    spans = sorted(p for p, v in held.items() if not p.isdigit() and v.value is not None)
    start = years[0] if years else year - 3
    step = WAVES.get(indicator.frequency)
    if indicator.frequency is Frequency.ANNUAL:
        chosen = set(range(start, year + 1))
    elif step is not None and with_value:
        anchor = with_value[-1]
        chosen = {y for y in range(min(start, anchor), year + 1) if (y - anchor) % step == 0} | set(with_value)
    else:
        return [str(y) for y in with_value] + spans + [""]
    return [str(y) for y in sorted(chosen) if y <= year] + spans


def template_rows(source: TemplateSource, held: dict[str, dict[str, Vintage]], year: int) -> list[TemplateRow]:
    """The rows of a source's template, indicator by indicator in catalogue order."""
    rows: list[TemplateRow] = []
    for indicator in source.indicators:
        mine = held.get(indicator.id, {})
        rows.extend(TemplateRow(indicator, p, mine.get(p)) for p in expected_periods(indicator, mine, year))
    return rows


def _number(value: float) -> str:
    return format(Decimal(repr(value)).normalize(), "f").replace(".", ",")


def _held_text(held: Vintage | None) -> str:
    if held is None:
        return ""
    if held.value is not None:
        return _number(held.value)
    return STATUS_WORDS.get(held.status or "", held.status or "")


def _cells(row: TemplateRow) -> dict[str, str]:
    indicator = row.indicator
    unit = UNIT_TEXT[indicator.unit] + (f" ({indicator.symbol})" if indicator.symbol else "")
    frequency = FREQUENCY_TEXT[indicator.frequency] + ("" if row.period else f" – {FREE_PERIOD_HINT}")
    return {
        "indicator_id": indicator.id, "name": indicator.name, "period": row.period, "last_value": _held_text(row.held),
        "value": "", "status": "", "note": "", "unit": unit, "allowed_range": describe_range(indicator),
        "frequency": frequency,
    }


def render_csv(rows: list[TemplateRow]) -> bytes:
    """The template as Norwegian Excel opens it: UTF-8 with BOM, semicolons, decimal comma, CRLF."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        cells = _cells(row)
        writer.writerow([cells[column] for column in COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


def render_xlsx(source: TemplateSource, rows: list[TemplateRow], today: date, region: str) -> bytes:
    """The template as a workbook: sheet «Import» (frozen header, status list) and «Veiledning» in bokmål."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = IMPORT_SHEET
    sheet.append(list(COLUMNS))
    for row in rows:
        cells = _cells(row)
        held = row.held
        last: str | float = held.value if held is not None and held.value is not None else cells["last_value"]
        sheet.append([last if column == "last_value" else cells[column] for column in COLUMNS])
    letters = {column: sheet.cell(row=1, column=index + 1).column_letter for index, column in enumerate(COLUMNS)}
    fill = PatternFill("solid", fgColor="FFF2CC")
    for index, column in enumerate(COLUMNS, start=1):
        header = sheet.cell(row=1, column=index)
        header.font = Font(bold=True)
        sheet.column_dimensions[letters[column]].width = WIDTHS[column]
        for line in range(2, len(rows) + 2):
            cell = sheet.cell(row=line, column=index)
            if column in FILL_IN:
                cell.fill = fill
            elif column != "period":
                cell.font = Font(color="666666")
            if column == "period":
                cell.number_format = "@"  # so Excel keeps "2021-2022" and leading text as typed
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{letters[COLUMNS[-1]]}{len(rows) + 1}"
    statuses = DataValidation(type="list", formula1='"Ikke målt,Tall kommer"', allow_blank=True)
    statuses.error = "Skriv «Ikke målt» eller «Tall kommer», eller la cellen stå tom."
    sheet.add_data_validation(statuses)
    if rows:
        statuses.add(f"{letters['status']}2:{letters['status']}{len(rows) + 1}")
    guide = workbook.create_sheet(GUIDE_SHEET)
    guide.column_dimensions["A"].width = 120
    for paragraph in guide_lines(source, today, region):
        guide.append([paragraph])
    guide["A1"].font = Font(bold=True, size=14)
    for cell in guide["A"]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def guide_lines(source: TemplateSource, today: date, region: str) -> list[str]:
    """The «Veiledning» sheet, one paragraph per line."""
    return [
        f"Importmal for {source.name}",
        f"Laget {today:%d.%m.%Y} for {len(source.indicators)} indikator(er). Fyll inn arket «{IMPORT_SHEET}», lagre, "
        "og importer filen med: monitor import FILNAVN.xlsx --by DITT-NAVN",
        "",
        "Kolonner i arket «Import» (de gule fyller du inn):",
        "indicator_id – indikatorens id i katalogen. Ikke endre den.",
        "name – indikatorens navn, bare til informasjon.",
        f"period – året verdien gjelder (ÅÅÅÅ). Tom periode betyr at indikatoren måles sporadisk: {FREE_PERIOD_HINT}. "
        "Spenn som 2018-2020 godtas bare for FHIs glidende gjennomsnitt.",
        "last_value – verdien monitoren har for perioden i dag, bare til informasjon.",
        "value – FYLL INN: tallet, med komma (eller punktum) som desimaltegn og uten tusenskille, f.eks. 15,1. "
        "Prosenttegnet kan stå med (15,1 %). Du kan også skrive «Ikke målt» eller «Tall kommer».",
        "status – i stedet for en verdi: «Ikke målt» eller «Tall kommer». En rad har enten verdi eller status.",
        "note – din egen kommentar; den lagres ikke i monitoren.",
        "unit, allowed_range, frequency – enhet, tillatte verdier og hvor ofte tallet kommer, bare til informasjon.",
        f"region – kan legges til som egen kolonne: firesifret kommunenummer. Uten den gjelder raden {region}.",
        "",
        "Regler:",
        "Rader der både value og status er tomme, hoppes over. Du trenger ikke slette dem.",
        "Formler godtas ikke: kopier og lim inn som «Verdier». En celle med formel gir feil med cellens adresse.",
        "En celle formatert som prosent leses slik den vises (15,1 % blir 15,1).",
        "Tekst som 1,748 eller 1.748 (ett skilletegn fulgt av nøyaktig tre sifre) godtas ikke, fordi den kan bety "
        "både 1748 og 1,748: skriv 1748, eller 1,7480 for desimaltallet. Unntak: indikatorer som vises med tre "
        "desimaler, og tall som er skrevet inn som tall i cellen (ikke som tekst). Bare sifrene 0–9 godtas.",
        "Skjulte ark, rader og kolonner med innhold godtas ikke: det som importeres, skal være det du ser i Excel.",
        "Filen importeres i sin helhet eller ikke i det hele tatt. Hver feil meldes med ark og celle, f.eks. "
        "«Import!E12», og databasen endres ikke før alle rader er riktige.",
        "Vil du rette en verdi, skriver du den nye verdien på raden for perioden. Den gamle verdien beholdes i "
        "historikken.",
        "Hver import lagrer hvem som importerte (--by, ellers MONITOR_IMPORT_BY, ellers brukernavnet), når, "
        "filnavnet og filens sha256.",
        "Andeler skal ligge mellom 0 og 100, skårer innenfor skalaen, plasseringer er hele tall fra 1, antall er "
        "hele tall fra 0.",
    ]


def write_template(path: Path, fmt: str, source: TemplateSource, rows: list[TemplateRow], today: date, region: str) -> None:
    """Write the template file (`fmt` "csv" or "xlsx")."""
    data = render_csv(rows) if fmt == "csv" else render_xlsx(source, rows, today, region)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise MonitorError(f"{path}: kan ikke skrive malen: {exc.strerror or exc}") from exc
