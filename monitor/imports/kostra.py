"""Importing KOSTRA figures the SSB fetch cannot give: rows without an SSB series, ASSS uten Oslo (KS's average),
and figures as printed after deflation or need adjustment.

The file is the import format (CSV or XLSX, `monitor.imports.read`) with `indicator_id` = "kostra.<row id>",
`region` = a region id of kostra.yaml ("baerum") or its store code ("3201", "EKG12", "ASSSUO"), `period` = the
year and `value`. Every row is checked before anything is stored; one bad row refuses the file with every problem
located (file:line or sheet!cell, row id, column). A figure the SSB fetch gives (a row with a series, printed as
SSB publishes it, for a region SSB has) is refused, as `monitor import` refuses SSB indicators. An imported
figure is stored as the printed quantity ("kostra.<id>"), in one transaction under the run-log source
"import:kostra"; an unchanged file writes nothing. `template_lines` and `render_template_csv` make the file to
fill in for a year, with what the monitor holds.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from monitor.catalogue.indicators import Unit
from monitor.core.errors import ImportFileError
from monitor.imports.read import ImportRow, read_bytes, read_import_rows
from monitor.imports.indicators import FIRST_YEAR, ImportResult, describe_range, duplicate_of, value_and_status
from monitor.catalogue.kostra import SERIES_PREFIX, KostraCatalogue, Region, Row
from monitor.core.model import STATUS_WORDS, Observation, RunRecord, Vintage
from monitor.core.numbers import format_value
from monitor.store.database import Store
from monitor.imports.templates import UNIT_TEXT

KOSTRA_IMPORT_SOURCE = "import:kostra"
TEMPLATE_COLUMNS = ("indicator_id", "name", "region", "period", "last_value", "value", "status", "note", "unit",
                    "allowed_range")


@dataclass(frozen=True)
class RowMeasure:
    """What the value check sees of a KOSTRA row (monitor.imports.indicators.Measure)."""

    unit: Unit
    symbol: str | None
    decimals: int = 0
    scale: tuple[int, int] | None = None


def measure_of(row: Row) -> RowMeasure:
    """The row's unit for the value check; a net figure ("Netto …") may be negative (income above expenditure),
    so it is checked as a number of any sign (the unit whose range is every number)."""
    if row.name.startswith("Netto") and row.unit is Unit.AMOUNT:
        return RowMeasure(Unit.INDEX, row.symbol, row.decimals)
    return RowMeasure(row.unit, row.symbol, row.decimals)


@dataclass(frozen=True)
class TemplateLine:
    """One row × region × year to fill in, with the figure held now."""

    row: Row
    region: Region
    year: int
    held: Vintage | None


def check_kostra_rows(rows: list[ImportRow], kostra: KostraCatalogue, today: date) -> list[Observation]:
    """Every row's observation, or ImportFileError listing every bad row (nothing half-checked is returned)."""
    by_id = {row.id: row for row in kostra.rows}
    regions: dict[str, Region] = {}
    for known_region in kostra.regions:
        regions[known_region.id] = known_region
        regions[known_region.store_code] = known_region
    problems: list[str] = []
    observations: list[Observation] = []
    first_line: dict[tuple[str, str, str], int] = {}
    for row in rows:
        cells = row.cells
        if row.problems:
            problems.extend(f"{row.where(column)}: {problem}" for column, problem in row.problems)
            continue
        if not cells.get("value") and not cells.get("status"):
            continue  # a template line nobody filled in
        ident = cells.get("indicator_id", "")
        kostra_row = by_id.get(ident[len(SERIES_PREFIX):]) if ident.startswith(SERIES_PREFIX) else None
        if kostra_row is None:
            problems.append(f"{row.where('indicator_id')}: ukjent KOSTRA-rad {ident!r} (skriv kostra.<rad-id> fra "
                            "kostra.yaml, for eksempel kostra.opp_grunnskolepoeng)")
            continue
        found: list[tuple[str, str]] = []
        region: Region | None = regions.get(cells.get("region", "").strip())
        if region is None:
            known = ", ".join(r.id for r in kostra.regions)
            found.append(("region", f"ukjent region {cells.get('region', '')!r} (bruk {known} eller kodene deres)"))
        year = cells.get("period", "").strip()
        if not re.fullmatch(r"[0-9]{4}", year) or not FIRST_YEAR <= int(year) <= today.year:
            found.append(("period", f"perioden {year!r} er ikke et årstall i {FIRST_YEAR}–{today.year}"))
        value, status, value_problems = value_and_status(measure_of(kostra_row), cells, typed="value" in row.numbers)
        found += value_problems
        if region is not None and kostra_row.ssb is not None and not kostra_row.adjusted and region.fetched:
            found.append(("indicator_id", f"hentes fra SSB (tabell {kostra_row.ssb.table}) for {region.name}, ikke import"))
        if region is not None and not found:
            duplicate = duplicate_of(first_line, (kostra_row.id, region.store_code, year), row, f"{ident} {region.id} {year}")
            if duplicate is not None:
                found.append(duplicate)
        if found:
            problems.extend(f"{row.where(column)}: {ident}: {problem}" for column, problem in found)
            continue
        assert region is not None
        observations.append(Observation(kostra_row.series_id, region.store_code, year, value, status,
                                        KOSTRA_IMPORT_SOURCE))
    if problems:
        raise ImportFileError(problems)
    if not observations:
        where = rows[0].location.at(rows[0].line) if rows else ""
        raise ImportFileError([f"{where}: ingen rad har verdi eller status; fyll inn kolonnen value (eller status) før import"])
    return observations


def import_kostra_file(
    store: Store, kostra: KostraCatalogue, path: Path, *, now: datetime, actor: str | None,
) -> ImportResult:
    """Check the whole file, then store it in one transaction (nothing when it changes nothing)."""
    raw = read_bytes(path)
    observations = check_kostra_rows(read_import_rows(path, raw), kostra, now.date())
    digest = hashlib.sha256(raw).hexdigest()
    run = RunRecord(source=KOSTRA_IMPORT_SOURCE, target=path.name, started_at=now, finished_at=now,
                    actor=actor, file_name=path.name, file_sha256=digest)
    run_id, new = store.write_run(run, observations, skip_if_unchanged=True)
    periods = tuple(sorted({obs.period for obs in observations}))
    return ImportResult(path.name, digest, len(observations), new, run_id, (), KOSTRA_IMPORT_SOURCE, periods)


def template_lines(kostra: KostraCatalogue, store: Store, year: int) -> list[TemplateLine]:
    """What SSB's API does not give for `year`: every region of a row without an SSB series or printed adjusted,
    and every row's regions without an SSB code (ASSS)."""
    lines: list[TemplateLine] = []
    for row in kostra.rows:
        held = {(v.region, v.period): v for v in sorted(store.vintages(row.series_id), key=lambda v: (v.retrieved_at, v.id))}
        for region in kostra.regions:
            if row.ssb is None or row.adjusted or not region.fetched:
                lines.append(TemplateLine(row, region, year, held.get((region.store_code, str(year)))))
    return lines


def render_template_csv(lines: list[TemplateLine]) -> bytes:
    """The template as Norwegian Excel opens it: UTF-8 with BOM, semicolons, CRLF."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(TEMPLATE_COLUMNS)
    for line in lines:
        held = line.held
        last = "" if held is None else (
            format_value(held.value, line.row.decimals, line.row.symbol) if held.value is not None
            else STATUS_WORDS.get(held.status or "", held.status or ""))
        unit = UNIT_TEXT[line.row.unit] + (f" ({line.row.symbol})" if line.row.symbol else "")
        cells = {
            "indicator_id": line.row.series_id, "name": line.row.name, "region": line.region.id, "period": str(line.year),
            "last_value": last, "value": "", "status": "", "note": "", "unit": unit,
            "allowed_range": describe_range(measure_of(line.row)),
        }
        writer.writerow([cells[column] for column in TEMPLATE_COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")
