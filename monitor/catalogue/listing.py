"""docs/indicators.md, generated from the catalogue: which indicators are fetched, which are imported, and why.

The page is built from `indicators.yaml` alone (the validated catalogue and, for the `# UNVERIFIED` comments that
pydantic never sees, the file's text), so it cannot go stale: tests/test_docs_indicators.py regenerates it and
compares. `monitor catalogue docs` writes it. The source labels (SSB, FHI, …) come from the source registry, passed
in by the caller, so they are defined once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any
from pathlib import Path

from monitor.catalogue.indicators import Catalogue, Indicator, load_catalogue
from monitor.catalogue.yamlpos import load_with_lines

DOCS_PATH = "docs/indicators.md"
COMMAND = "monitor catalogue docs"
_TOP_LEVEL_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")


def unverified_marks(catalogue: Catalogue, yaml_text: str) -> dict[str, list[str]]:
    """indicator id → the comment text of each line of its block that says UNVERIFIED, in file order.

    An indicator's block runs from its `- id:` line to the line before the next indicator's (the last one ends at
    the next top-level key, `placeholders:` or `retired:`). Only comments count: a label or name is never a mark.
    """
    _, lines = load_with_lines(yaml_text)
    text_lines = yaml_text.splitlines()
    starts = [lines.line_for(("indicators", index)) for index in range(len(catalogue.indicators))]
    marks: dict[str, list[str]] = {}
    for index, indicator in enumerate(catalogue.indicators):
        first = starts[index]
        last = starts[index + 1] - 1 if index + 1 < len(starts) else _end_of_section(text_lines, first)
        found = [_mark(line) for line in text_lines[first - 1:last]]
        marks[indicator.id] = [text for text in found if text is not None]
    return marks


def _end_of_section(text_lines: list[str], first: int) -> int:
    for number in range(first + 1, len(text_lines) + 1):
        if _TOP_LEVEL_KEY.match(text_lines[number - 1]):
            return number - 1
    return len(text_lines)


def _comment(line: str) -> str | None:
    """The comment of a YAML line (after a `#` outside quotes), stripped; None when there is none."""
    quote: str | None = None
    for position, char in enumerate(line):
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#" and (position == 0 or line[position - 1].isspace()):
            return line[position + 1:].strip()
    return None


def _mark(line: str) -> str | None:
    """An UNVERIFIED comment; after a value, prefixed with the key it is about (`unit: "prosent"  # UNVERIFIED`)."""
    comment = _comment(line)
    if comment is None or "UNVERIFIED" not in comment:
        return None
    content = line.split("#", 1)[0].strip().removeprefix("- ")
    key = content.split(":", 1)[0].strip() if ":" in content else ""
    return f"`{key}`: {comment}" if key else comment


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _where(indicator: Indicator, source_labels: Mapping[str, str]) -> str:
    """Where the values come from: the fetch's source and tables, or the Kilde of an import (and its control figure)."""
    if indicator.fetch is None:
        control = getattr(indicator, "control", None)
        checked = f"; control figure: {_fetched(control, source_labels)}" if control is not None else ""
        return f"{indicator.source.name} ({indicator.source.kind.value}){checked}"
    return _fetched(indicator.fetch, source_labels)


def _fetched(fetch: Any, source_labels: Mapping[str, str]) -> str:
    """A fetch (or control) block as its source's label, its tables (with a Udir column or a JSON field) and value."""
    tables: list[str] = []
    for series in fetch.series.values():
        table = str(getattr(series, "table", "") or "")
        measure = getattr(series, "measure", None) or getattr(series, "field", None)  # Udir's column, a JSON field
        item = f"{table} ({measure})" if table and measure else table
        if item and item not in tables:
            tables.append(item)
    label = source_labels.get(fetch.kind, fetch.kind)
    value = fetch.value if isinstance(fetch.value, str) else fetch.value.op
    named = ", ".join(f"`{t}`" for t in tables) if tables else ", ".join(f"`{name}`" for name in fetch.series)
    return f"{label} {named}; value: `{value}`"


def _why(indicator: Indicator, source_labels: Mapping[str, str]) -> str:
    if indicator.fetch is not None:
        return f"{source_labels.get(indicator.fetch.kind, indicator.fetch.kind)} publishes it through an open API"
    if indicator.import_reason is None:
        return "**no reason recorded** (add `import_reason` in indicators.yaml)"
    return f"«{indicator.import_reason}»"


def indicators_markdown(catalogue: Catalogue, yaml_text: str, source_labels: Mapping[str, str]) -> str:
    """The whole of docs/indicators.md for this catalogue (its validated model and the text it was read from)."""
    marks = unverified_marks(catalogue, yaml_text)
    paths = Counter(indicator.path for indicator in catalogue.indicators)
    fetched = sum(count for path, count in paths.items() if path != "import")
    total = len(catalogue.indicators)
    out = [
        "# Indicators: fetched or imported, and why",
        "",
        f"Generated from `indicators.yaml` by `{COMMAND}` (do not edit by hand: change the catalogue and run the "
        "command; `tests/test_docs_indicators.py` fails when this page no longer matches the catalogue). "
        "An indicator is **fetched** when it has a `fetch` block; the monitor then asks the source itself on its "
        "schedule. Otherwise it is **imported**: a person brings a file (`monitor import`, the import page), and "
        "`import_reason` in the catalogue says why no fetch exists (in bokmål, as the catalogue's other texts). "
        "A fetched indicator can still be fed by a manual bridge import (`monitor import --bridge`) during an "
        "outage. The evidence behind the reasons is issue 20's research of open sources. "
        "*UNVERIFIED* counts the `# UNVERIFIED` comments in the indicator's block of indicators.yaml; "
        "they are listed at the end.",
        "",
        "## Counts",
        "",
        "| path | indicators |",
        "|---|---:|",
    ]
    for path in sorted(paths, key=lambda p: (p == "import", p)):
        kind = path.removeprefix("fetch:")
        name = f"{path} ({source_labels.get(kind, kind)})" if path != "import" else "import"
        out.append(f"| {name} | {paths[path]} |")
    out += [
        f"| **on a fetch path** | **{fetched}** |",
        f"| all | {total} |",
        "",
        "Imported, by the catalogue's source kind: "
        + ", ".join(f"{kind} {count}" for kind, count in sorted(Counter(
            i.source.kind.value for i in catalogue.indicators if i.fetch is None).items())) + ".",
        "",
        "## Every indicator, by area",
    ]
    areas: dict[str, list[Indicator]] = {}
    for indicator in catalogue.indicators:
        areas.setdefault(indicator.area, []).append(indicator)
    for area, members in areas.items():
        out += ["", f"### {area}", "", "| id | name | path | from | why | UNVERIFIED |", "|---|---|---|---|---|---:|"]
        for indicator in members:
            count = len(marks[indicator.id])
            out.append(
                f"| `{indicator.id}` | {_cell(indicator.name)} | {indicator.path} | "
                f"{_cell(_where(indicator, source_labels))} | {_cell(_why(indicator, source_labels))} | "
                f"{count or ''} |"
            )
    out += ["", "## UNVERIFIED marks", "",
            "Each `# UNVERIFIED` comment line in indicators.yaml, by indicator (the whole comment is in the file).", ""]
    for indicator in catalogue.indicators:
        if marks[indicator.id]:
            out.append(f"- `{indicator.id}`:")
            seen = Counter(marks[indicator.id])
            out += [f"  - {_cell(text)}" + (f" (×{seen[text]})" if seen[text] > 1 else "") for text in seen]
    return "\n".join(out) + "\n"


def indicators_doc(path: Path, source_labels: Mapping[str, str]) -> str:
    """docs/indicators.md for the catalogue file at `path` (validated; CatalogueError when it is not valid)."""
    return indicators_markdown(load_catalogue(path), path.read_text(encoding="utf-8"), source_labels)
