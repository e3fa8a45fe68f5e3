"""Import files for registers and surveys: check every row against the catalogue, and store all or nothing."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from monitor.imports import miljodir, nkom
from monitor.catalogue.indicators import Catalogue, Indicator, SourceKind, Unit
from monitor.core.errors import ImportFileError
from monitor.imports.read import (
    IMPORT_SHEET,
    MAX_FILE_BYTES,
    ImportRow,
    check_size,
    file_kind,
    foreign_digit,
    parse_number,
    read_bytes,
    read_import_rows,
    xlsx_sheet_names,
)
from monitor.core.model import NOT_MEASURED, PENDING, Observation, RunRecord
from monitor.store.database import Store

FIRST_YEAR = 1990
STATUS_TEXT = {"ikke målt": NOT_MEASURED, "tall kommer": PENDING}
IMPORT_SOURCE = "import"
# Indicators fetched from these sources are refused: their numbers come from the API, not from a file.
# Udir is accepted as a fallback (its API is unstable and may change without notice).
FETCHED_ELSEWHERE = {"ssb": "SSB", "fhi": "FHI", "miljodir": "Miljødirektoratet"}
# A planner's bridge over a source outage (issue 17 §5): values for a fetched indicator, stored as their own
# vintage; the next fetched value for the same period is newer and so takes over.
BRIDGE_VINTAGE = "Manuelt lagt inn"
# Sources that publish spans ("2018-2020"): FHI's rolling averages, stored as spans by the FHI fetcher too.
SPAN_SOURCES = frozenset({SourceKind.FHI})
MAX_SPAN_YEARS = 10
WHOLE_UNITS = frozenset({Unit.RANK, Unit.COUNT})
FORMATS = ("auto", "standard", "miljodir", "nkom")


class Measure(Protocol):
    """What a value is checked against: an indicator, or a KOSTRA row (monitor.imports.kostra)."""

    @property
    def unit(self) -> Unit: ...

    @property
    def symbol(self) -> str | None: ...

    @property
    def scale(self) -> tuple[int, int] | None: ...

    @property
    def decimals(self) -> int: ...


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    file_name: str
    sha256: str
    rows: int
    new_vintages: int
    run_id: int | None
    skipped: tuple[int, ...] = ()  # lines (rows) with neither value nor status: not filled in, not imported
    source: str = IMPORT_SOURCE
    periods: tuple[str, ...] = ()


def import_refusal(indicator: Indicator, bridge: bool = False) -> str | None:
    """Why this indicator cannot be imported, or None when it can (a manual bridge may feed a fetched one)."""
    if not bridge and indicator.fetch is not None and indicator.fetch.kind in FETCHED_ELSEWHERE:
        return (f"hentes fra {FETCHED_ELSEWHERE[indicator.fetch.kind]}, ikke import (kan kilden ikke nås, kan tallet "
                "legges inn som manuell bro: monitor import --bridge, eller avkrysningen på importsiden)")
    return None


def parse_value(text: str, *, decimals: int = 0, typed: bool = False) -> float:
    """A number as people type it in Norway: '15,1', '1 748', '-0,7', '12.5'. ValueError otherwise.

    '1.748' and '1,748' are refused as ambiguous unless `decimals` >= 3 or the value was an XLSX number cell
    (`typed`); see monitor.imports.read.parse_number.
    """
    return float(parse_number(text, decimals=decimals, typed=typed))


def value_range(indicator: Measure) -> tuple[float | None, float | None]:
    """The allowed (low, high) for a value of this indicator; None means unbounded."""
    if indicator.unit is Unit.SHARE:
        return 0.0, 100.0
    if indicator.unit is Unit.SCALE and indicator.scale is not None:
        return float(indicator.scale[0]), float(indicator.scale[1])
    if indicator.unit is Unit.RANK:
        return 1.0, None
    if indicator.unit in (Unit.COUNT, Unit.RATE, Unit.AMOUNT):
        return 0.0, None
    return None, None


def describe_range(indicator: Measure) -> str:
    """The allowed values in bokmål, as the template shows them: '0–100', '1–5', '≥ 1, hele tall', 'alle tall'."""
    low, high = value_range(indicator)
    if low is None and high is None:
        text = "alle tall"
    elif high is None:
        text = f"≥ {_plain(low or 0.0)}"
    else:
        text = f"{_plain(low or 0.0)}–{_plain(high)}"
    return f"{text}, hele tall" if indicator.unit in WHOLE_UNITS else text


def check_period(indicator: Indicator, text: str, today: date) -> tuple[str | None, str | None]:
    """(the period as stored, None) or (None, the problem). A year; a span ÅÅÅÅ-ÅÅÅÅ only for FHI sources."""
    period = text.strip().replace("\u2013", "-").replace("\u2014", "-")
    if not period:
        return None, "perioden er tom (skriv årstallet, ÅÅÅÅ)"
    if foreign_digit(period) is not None:
        return None, f"perioden {text!r} er ikke et årstall (ÅÅÅÅ) med sifrene 0–9"
    span = re.fullmatch(r"([0-9]{4})-([0-9]{4}|[0-9]{2})", period)
    if span is not None:
        start = int(span.group(1))
        if indicator.source.kind is SourceKind.UDIR:
            return None, (f"perioden {text!r} er et skoleår; for {indicator.source.name} skal perioden være året for "
                          f"høsten undersøkelsen ble gjort (ÅÅÅÅ), her {start}, slik Udir-hentingen lagrer den")
        if indicator.source.kind not in SPAN_SOURCES:
            return None, (f"perioden {text!r} er et spenn; for {indicator.source.name} skal perioden være ett årstall (ÅÅÅÅ) "
                          "– spenn (ÅÅÅÅ-ÅÅÅÅ) godtas bare for FHIs glidende gjennomsnitt")
        end = int(span.group(2)) if len(span.group(2)) == 4 else start // 100 * 100 + int(span.group(2))
        if not start < end < start + MAX_SPAN_YEARS:
            return None, f"spennet {text!r} må gå fra et tidligere til et senere år, høyst {MAX_SPAN_YEARS} år"
        if start < FIRST_YEAR or end > today.year:
            return None, f"perioden {text} er utenfor {FIRST_YEAR}–{today.year}"
        return f"{start}-{end}", None
    if not re.fullmatch(r"[0-9]{4}", period):
        return None, f"perioden {text!r} er ikke et årstall (ÅÅÅÅ)"
    if not FIRST_YEAR <= int(period) <= today.year:
        return None, f"perioden {period} er utenfor {FIRST_YEAR}–{today.year}"
    return period, None


Progress = Callable[[int, int], None]  # (rows done, rows in all)


@dataclass(frozen=True)
class CheckedRows:
    """The observations of a file that passed every check, and the rows left empty."""

    observations: list[Observation]
    skipped: tuple[int, ...]


def check_rows(
    rows: list[ImportRow], catalogue: Catalogue, today: date, progress: Progress | None = None,
    source: str = IMPORT_SOURCE,
    bridge: bool = False,
) -> CheckedRows:
    """Check every row; return the observations, or raise ImportFileError listing every bad row."""
    problems: list[str] = []
    observations: list[Observation] = []
    skipped: list[int] = []
    first_line: dict[tuple[str, str, str], int] = {}
    indicators = catalogue.by_id
    for done, row in enumerate(rows, start=1):
        if progress is not None and (done % 1000 == 0 or done == len(rows)):
            progress(done, len(rows))
        ident = row.cells.get("indicator_id", "")
        label = f"{ident}: " if ident in indicators else ""
        if row.problems:
            problems.extend(f"{row.where(column)}: {label}{problem}" for column, problem in row.problems)
            continue
        if not row.cells.get("value") and not row.cells.get("status"):
            skipped.append(row.line)  # a template row nobody filled in
            continue
        indicator = indicators.get(ident)
        if indicator is None:
            problem = f"ukjent indikator-id {ident!r}" if ident else "indikator-id mangler"
            problems.append(f"{row.where('indicator_id')}: {problem}")
            continue
        refusal = import_refusal(indicator, bridge)
        if refusal is not None:
            problems.append(f"{row.where('indicator_id')}: {ident}: {refusal}")
            continue
        row_problems: list[tuple[str, str]] = []
        region = row.cells.get("region") or catalogue.municipality.current_code
        if not re.fullmatch(r"[0-9]{4}", region):
            digits = " med sifrene 0–9" if foreign_digit(region) is not None else ""
            row_problems.append(("region", f"region {region!r} er ikke et firesifret kommunenummer{digits}"))
        period, period_problem = check_period(indicator, row.cells["period"], today)
        if period_problem is not None:
            row_problems.append(("period", period_problem))
        value, status, value_problems = value_and_status(indicator, row.cells, typed="value" in row.numbers)
        row_problems += value_problems
        if period is not None:
            duplicate = duplicate_of(first_line, (ident, region, period), row, f"{ident} {region} {period}")
            if duplicate is not None:
                row_problems.append(duplicate)
        if row_problems:
            problems.extend(f"{row.where(column)}: {ident}: {problem}" for column, problem in row_problems)
            continue
        assert period is not None
        observations.append(Observation(ident, region, period, value, status, source))
    if problems:
        raise ImportFileError(problems)
    if not observations:
        where = rows[0].location.at(rows[0].line) if rows else ""
        raise ImportFileError([
            f"{where}: ingen rad har verdi eller status; fyll inn kolonnen value (eller status) før import"
        ])
    return CheckedRows(observations, tuple(skipped))


def duplicate_of(
    first_line: dict[tuple[str, str, str], int], key: tuple[str, str, str], row: ImportRow, shown: str
) -> tuple[str, str] | None:
    """("indicator_id", the problem) when `key` stood on an earlier row of the file; else remember this row."""
    if key in first_line:
        return "indicator_id", f"dobbel rad: {shown} står også på {row.location.row_word} {first_line[key]}"
    first_line[key] = row.line
    return None


def value_and_status(
    indicator: Measure, cells: dict[str, str], *, typed: bool = False
) -> tuple[float | None, str | None, list[tuple[str, str]]]:
    """The row's value or status (Ikke målt, Tall kommer), or the (column, problem) pairs that refuse it.

    `typed`: the value was a number cell in the workbook, so '1.748' is 1,748 (see parse_value)."""
    raw_value = cells["value"]
    raw_status = cells.get("status", "")
    status = STATUS_TEXT.get(raw_status.lower()) if raw_status else None
    if raw_status and status is None:
        return None, None, [("status", f"statusen {raw_status!r} er verken 'Ikke målt' eller 'Tall kommer'")]
    if raw_value.lower() in STATUS_TEXT:
        if status is not None and status != STATUS_TEXT[raw_value.lower()]:
            return None, None, [("status", "verdi og status sier forskjellige ting")]
        return None, STATUS_TEXT[raw_value.lower()], []
    if not raw_value:
        return None, status, []
    if status is not None:
        return None, None, [("value", f"en rad har enten verdi eller status, ikke begge (verdi {raw_value!r}, status {raw_status!r})")]
    symbol = indicator.symbol
    text = raw_value[: -len(symbol)].rstrip() if symbol and raw_value.endswith(symbol) else raw_value
    try:
        value = parse_value(text, decimals=indicator.decimals, typed=typed)
    except ValueError as exc:
        return None, None, [("value", f"verdi: {exc}")]
    low, high = value_range(indicator)
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"{'' if low is None else _plain(low)}–{'' if high is None else _plain(high)}"
        return None, None, [("value", f"verdien {raw_value} er utenfor tillatt område {bounds} for enheten '{indicator.unit.value}'")]
    if indicator.unit in WHOLE_UNITS and value != int(value):
        return None, None, [("value", f"verdien {raw_value} må være et helt tall for enheten '{indicator.unit.value}'")]
    return value, None, []


def _plain(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number).replace(".", ",")


def import_file(
    store: Store,
    catalogue: Catalogue,
    path: Path,
    *,
    now: datetime,
    actor: str | None,
    progress: Progress | None = None,
    fmt: str = "auto",
    bridge: bool = False,
) -> ImportResult:
    """Check the whole file, then store it in one transaction. A file that changes nothing writes nothing.

    `fmt` is "standard" (the import format, CSV or XLSX), "miljodir" (Miljødirektoratet's own workbook), "nkom"
    (Nkom's yearly coverage workbook, monitor.imports.nkom) or "auto" (Miljødirektoratet's workbook when it has that
    sheet and no «Import» sheet; Nkom's when neither and a sheet carries one of Nkom's table titles). With `bridge`, fetched
    indicators may be imported too (a manual bridge over an outage), stored as the vintage «Manuelt lagt inn».
    """
    raw = read_bytes(path, limit=max(miljodir.MAX_FILE_BYTES, MAX_FILE_BYTES))
    if fmt == "auto":
        fmt = "miljodir" if file_kind(path, raw) == "xlsx" and miljodir.looks_like_miljodir(path, raw) else "standard"
        if fmt == "standard" and file_kind(path, raw) == "xlsx" and _maybe_nkom(path, raw) and nkom.looks_like_nkom(path, raw):
            fmt = "nkom"
    if fmt == "miljodir":
        rows, source = miljodir.read_rows(path, raw, catalogue), miljodir.SOURCE
    elif fmt == "nkom":
        check_size(path, raw, MAX_FILE_BYTES)
        rows, source = nkom.read_rows(path, raw, catalogue), nkom.SOURCE
    elif fmt == "standard":
        check_size(path, raw, MAX_FILE_BYTES)
        rows, source = read_import_rows(path, raw), IMPORT_SOURCE
    else:
        raise ImportFileError([f"{path}: ukjent format {fmt!r}; bruk {', '.join(FORMATS)}"])
    checked = check_rows(rows, catalogue, now.date(), progress, source, bridge)
    digest = hashlib.sha256(raw).hexdigest()
    run = RunRecord(
        source=source, target=path.name, started_at=now, finished_at=now,
        actor=actor, file_name=path.name, file_sha256=digest,
    )
    run_id, new = store.write_run(
        run, checked.observations, vintage=BRIDGE_VINTAGE if bridge else None, skip_if_unchanged=True
    )
    periods = tuple(sorted({obs.period for obs in checked.observations}))
    return ImportResult(path.name, digest, len(checked.observations), new, run_id, checked.skipped, source, periods)


def _maybe_nkom(path: Path, raw: bytes) -> bool:
    """Worth looking for Nkom's table titles: a workbook without the import format's «Import» sheet."""
    return IMPORT_SHEET not in xlsx_sheet_names(path, raw)
