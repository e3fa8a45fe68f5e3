"""Error texts as users read them: in bokmål, on one line, with no raw control characters.

Libraries speak English (sqlite3, csv, the JSON-stat parser in fetchers/jsonstat.py) and may echo what they were
given, bytes and all. Where such a text reaches a user (the CLI's output, the web, the run log, the alert e-mails,
the exports), it is translated with the functions here; the original goes to the log.
"""

from __future__ import annotations

import csv
import re
import sqlite3

KEEP = frozenset("\n\t")  # the line breaks of a multi-line message (one problem a line) and tabs stay as they are


def printable(text: str) -> str:
    r"""`text` with every control or other unprintable character escaped: NUL as the four characters \x00, a
    right-to-left override as \u202e. Letters of any script, spaces and line breaks stay as they are."""
    return "".join(char if char.isprintable() or char == " " or char in KEEP else _escape(char) for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def sqlite_reason(exc: sqlite3.Error | OSError) -> str:
    """Why SQLite (or the file system under it) refused, in bokmål, for a StoreError."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return "databasen er låst av en annen prosess som skriver; prøv igjen om litt"
    if "full" in text:
        return "disken er full"
    if "readonly" in text or "read-only" in text or "permission" in text:
        return "databasefilen er skrivebeskyttet, eller brukeren mangler rettigheter til den eller mappen"
    if "unable to open" in text:
        return "databasefilen kan ikke åpnes (finnes mappen, og har brukeren rettigheter til den?)"
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return "databasefilen er ødelagt eller ikke en SQLite-database"
    if "disk i/o" in text:
        return "lese- eller skrivefeil på disken"
    if "no such table" in text or "no such column" in text:
        return "databasen har ikke skjemaet programmet venter; kjør `monitor init`"
    if isinstance(exc, sqlite3.IntegrityError):
        return "en rad bryter en regel i databasen"
    return f"uventet databasefeil ({type(exc).__name__})"


_FIELD_LIMIT = re.compile(r"field larger than field limit \((\d+)\)")


def csv_reason(exc: csv.Error) -> str:
    """Why Python's csv module refused a file, in bokmål, for an import's problem line."""
    text = str(exc)
    limit = _FIELD_LIMIT.search(text)
    if limit:
        return (f"et felt er lengre enn {int(limit.group(1))} tegn; mangler et avsluttende anførselstegn (\")?")
    if "nul" in text.lower():
        return "linjen inneholder NUL-tegn (\\x00); er filen en CSV-fil?"
    if "new-line character seen in unquoted field" in text:
        return "linjeskift midt i et felt uten anførselstegn; lagre filen på nytt som CSV"
    if "expected" in text and "after" in text:
        return "et anførselstegn (\") står midt i et felt; sett hele feltet i anførselstegn og doble det"
    return "filen kan ikke leses som CSV"


# The JSON-stat parser's messages (fetchers/jsonstat.py), by how they begin, and what they mean for a user.
_JSONSTAT = (
    ("body is HTML", "kilden sendte en nettside (HTML), ikke data"),
    ("body is truncated or malformed JSON", "svaret er avkortet eller ikke gyldig JSON"),
    ("body is not UTF-8", "svaret er ikke tekst i UTF-8"),
    ("not a JSON-stat dataset but an error body", "kilden sendte en feilmelding i stedet for data"),
    ("value[", "en verdi i datasettet er ugyldig"),
    ("status", "en status i datasettet er ugyldig"),
)


def unreadable_answer(detail: str) -> str:
    """One bokmål sentence for an answer the JSON-stat parser refused (`detail` is its English message)."""
    reason = next((meaning for start, meaning in _JSONSTAT if detail.startswith(start)),
                  "datasettet har ikke formen JSON-stat 2.0 krever")
    return f"svaret fra kilden kunne ikke leses ({reason}; detaljene står i loggen)"
