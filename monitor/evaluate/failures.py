"""A failed fetch in plain bokmål: one sentence per kind of failure, never the exception text (issue 17).

The run log keeps the raw error (fetch_runs.error); the pages, the explanations and the exports say what it
means: the source cannot be reached, refuses, does not answer in time, answers with its own error message, or
answers with something that cannot be read.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")
_HTTP = re.compile(r"\(HTTP (\d{3})\)(?::\s*(.*))?|HTTP (\d{3})(?::\s*(.*))?", re.S)


def failure_kind(error: str | None) -> str:
    """refused | unreachable | timeout | source | unreadable, from a run log's error text."""
    text = error or ""
    lowered = text.lower()
    if "connection refused" in lowered or "errno 111" in lowered:
        return "refused"
    if "får ikke kontakt" in lowered or "forbindelsen brøt" in lowered or "errno" in lowered:
        return "unreachable"
    if "tidsavbrudd" in lowered or "fristen gikk ut" in lowered or "timeout" in lowered:
        return "timeout"
    if _HTTP.search(text) and "html i stedet for json" not in lowered and "tomt svar" not in lowered:
        return "source"
    return "unreadable"


def _source_message(error: str) -> str:
    """The source's own words in an HTTP error, without our prefixes (may be empty)."""
    match = _HTTP.search(error)
    if match is None:
        return ""
    detail = (match.group(2) or match.group(4) or "").split(" – ga opp etter", 1)[0].strip()
    return detail.strip(" :.")


def _since(when: str | None, zone: ZoneInfo) -> str:
    if not when:
        return ""
    moment = datetime.fromisoformat(when).astimezone(zone)
    return f" siden {moment:%d.%m.} kl. {moment:%H:%M}"


def failure_sentence(label: str, error: str | None, since: str | None = None, zone: ZoneInfo = OSLO) -> str:
    """One sentence, e.g. "SSB kan ikke nås fra serveren siden 04.12. kl. 15:52." (`since`: UTC ISO, the first
    failed attempt after the last success)."""
    kind, after = failure_kind(error), _since(since, zone)
    if kind == "refused":
        return f"{label} avviser tilkoblingen fra serveren{after}."
    if kind == "unreachable":
        return f"{label} kan ikke nås fra serveren{after}."
    if kind == "timeout":
        return f"{label} svarer ikke innen tidsfristen{after}."
    if kind == "source":
        message = _source_message(error or "")
        words = f": «{message}»" if message else ""
        return f"{label} svarer med en feilmelding{after}{words}."
    return f"Svaret fra {label} kan ikke leses{after}."


def refusal_sentence(error: str, since: str | None = None, zone: ZoneInfo = OSLO) -> str:
    """An indicator its table refused alone (a code or label the table lacks): the fetch's own bokmål sentence,
    with since when, e.g. "SSB-tabell 12209 har ingen verdi X i ContentsCode siden 04.12. kl. 15:52."."""
    return f"{error.strip().rstrip('.')}{_since(since, zone)}."
