"""Import files for registers and surveys: read, check every row, and store all or nothing."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from monitor.catalogue import Catalogue, Indicator, Unit
from monitor.errors import ImportFileError
from monitor.model import NOT_MEASURED, PENDING, Observation, RunRecord
from monitor.store import Store

MAX_FILE_BYTES = 5 * 1024 * 1024
REQUIRED_COLUMNS = ("indicator_id", "period", "value")
OPTIONAL_COLUMNS = ("region", "status", "note")
FIRST_YEAR = 1990
STATUS_TEXT = {"ikke målt": NOT_MEASURED, "tall kommer": PENDING}
IMPORT_SOURCE = "import"


@dataclass(frozen=True)
class ImportRow:
    """One data row of an import file, with the line it came from."""

    line: int
    cells: dict[str, str]


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    file_name: str
    sha256: str
    rows: int
    new_vintages: int
    run_id: int | None


def read_rows(path: Path) -> tuple[list[ImportRow], bytes]:
    """Read a CSV import file (comma or semicolon, UTF-8 with or without BOM, or cp1252)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError([f"{path}: kan ikke lese filen: {exc.strerror or exc}"]) from exc
    if len(raw) > MAX_FILE_BYTES:
        raise ImportFileError([f"{path}: filen er på {len(raw)} byte; grensen er {MAX_FILE_BYTES} byte"])
    text = _decode(raw)
    if not text.strip():
        raise ImportFileError([f"{path}:1: filen er tom; forventet overskriftsraden {';'.join(REQUIRED_COLUMNS)}"])
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [cell.strip().lower() for cell in next(reader)]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    unknown = [column for column in header if column not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        parts = []
        if missing:
            parts.append(f"mangler kolonne(r) {', '.join(missing)}")
        if unknown:
            parts.append(f"ukjent kolonne(r) {', '.join(repr(c) for c in unknown)}")
        if len(set(header)) != len(header):
            parts.append("en kolonne står to ganger")
        expected = delimiter.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
        raise ImportFileError([f"{path}:1: feil overskriftsrad: {'; '.join(parts)} (forventet {expected})"])
    rows: list[ImportRow] = []
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            rows.append(ImportRow(line, {"__error__": f"{len(cells)} celler, men overskriftsraden har {len(header)}"}))
            continue
        rows.append(ImportRow(line, {name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(header)}))
    if not rows:
        raise ImportFileError([f"{path}:2: filen har overskriftsrad, men ingen datarader"])
    return rows, raw


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Norwegian Excel's "CSV (semikolonseparert)" writes Windows-1252.
        return raw.decode("cp1252", errors="strict")


def parse_value(text: str) -> float:
    """A number as people type it in Norway: '15,1', '1 748', '-0,7', '12.5'. ValueError otherwise."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text).replace("\u2212", "-")
    if cleaned.count(",") + cleaned.count(".") > 1:
        raise ValueError(f"{text!r} er ikke et tall (bruk ett desimaltegn og ikke tusenskilletegn)")
    cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)", cleaned):
        raise ValueError(f"{text!r} er ikke et tall")
    return float(cleaned)


def value_range(indicator: Indicator) -> tuple[float | None, float | None]:
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


Progress = Callable[[int, int], None]  # (rows done, rows in all)


def check_rows(
    path: Path, rows: list[ImportRow], catalogue: Catalogue, today: date, progress: Progress | None = None
) -> list[Observation]:
    """Check every row; return the observations, or raise ImportFileError listing every bad row."""
    problems: list[str] = []
    observations: list[Observation] = []
    first_line: dict[tuple[str, str, str], int] = {}
    indicators = catalogue.by_id
    for done, row in enumerate(rows, start=1):
        if progress is not None and (done % 1000 == 0 or done == len(rows)):
            progress(done, len(rows))
        where = f"{path}:{row.line}"
        if "__error__" in row.cells:
            problems.append(f"{where}: {row.cells['__error__']}")
            continue
        ident = row.cells["indicator_id"]
        indicator = indicators.get(ident)
        if indicator is None:
            problems.append(f"{where}: ukjent indikator-id {ident!r}")
            continue
        region = row.cells.get("region") or catalogue.municipality.current_code
        period = row.cells["period"]
        row_problems = _check_period(period, today) + ([] if re.fullmatch(r"\d{4}", region) else [f"region {region!r} er ikke et firesifret kommunenummer"])
        value, status, value_problems = _value_and_status(indicator, row.cells)
        row_problems += value_problems
        key = (ident, region, period)
        if key in first_line:
            row_problems.append(f"dobbel rad: {ident} {region} {period} står også på linje {first_line[key]}")
        else:
            first_line[key] = row.line
        if row_problems:
            problems.extend(f"{where}: {ident}: {problem}" for problem in row_problems)
            continue
        observations.append(Observation(ident, region, period, value, status, IMPORT_SOURCE))
    if problems:
        raise ImportFileError(problems)
    return observations


def _check_period(period: str, today: date) -> list[str]:
    if not re.fullmatch(r"\d{4}", period):
        return [f"perioden {period!r} er ikke et årstall (ÅÅÅÅ)"]
    if not FIRST_YEAR <= int(period) <= today.year:
        return [f"perioden {period} er utenfor {FIRST_YEAR}–{today.year}"]
    return []


def _value_and_status(indicator: Indicator, cells: dict[str, str]) -> tuple[float | None, str | None, list[str]]:
    raw_value = cells["value"]
    raw_status = cells.get("status", "")
    status = STATUS_TEXT.get(raw_status.lower()) if raw_status else None
    if raw_status and status is None:
        return None, None, [f"statusen {raw_status!r} er verken 'Ikke målt' eller 'Tall kommer'"]
    if raw_value.lower() in STATUS_TEXT:
        if status is not None and status != STATUS_TEXT[raw_value.lower()]:
            return None, None, ["verdi og status sier forskjellige ting"]
        return None, STATUS_TEXT[raw_value.lower()], []
    if not raw_value:
        if status is None:
            return None, None, ["verdien er tom (skriv et tall, 'Ikke målt' eller 'Tall kommer')"]
        return None, status, []
    if status is not None:
        return None, None, [f"en rad har enten verdi eller status, ikke begge (verdi {raw_value!r}, status {raw_status!r})"]
    symbol = indicator.symbol
    text = raw_value[: -len(symbol)].rstrip() if symbol and raw_value.endswith(symbol) else raw_value
    try:
        value = parse_value(text)
    except ValueError as exc:
        return None, None, [f"verdi: {exc}"]
    low, high = value_range(indicator)
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"{'' if low is None else _plain(low)}–{'' if high is None else _plain(high)}"
        return None, None, [f"verdien {raw_value} er utenfor tillatt område {bounds} for enheten '{indicator.unit.value}'"]
    return value, None, []


def _plain(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)


def import_file(
    store: Store,
    catalogue: Catalogue,
    path: Path,
    *,
    now: datetime,
    actor: str | None,
    progress: Progress | None = None,
) -> ImportResult:
    """Check the whole file, then store it in one transaction. A file that changes nothing writes nothing."""
    rows, raw = read_rows(path)
    observations = check_rows(path, rows, catalogue, now.date(), progress)
    digest = hashlib.sha256(raw).hexdigest()
    run = RunRecord(
        source=IMPORT_SOURCE, target=path.name, started_at=now, finished_at=now,
        actor=actor, file_name=path.name, file_sha256=digest,
    )
    run_id, new = store.write_run(run, observations, skip_if_unchanged=True)
    return ImportResult(path.name, digest, len(observations), new, run_id)
