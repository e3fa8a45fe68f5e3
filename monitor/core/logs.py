"""The service's log lines: readable text (default) or, with MONITOR_LOG_FORMAT=json, one JSON object per line.

A JSON line always has `time` (UTC, ISO 8601), `level`, `logger` and `message`; the fields a fetch run's lines carry
through `extra=` are added when present: `run_id` (the run log's row, fetch_runs.id), `source`, `table` and
`outcome` (ok | unchanged | failed), and more as FIELDS lists; an exception's traceback comes as `exception`.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any, Literal

FIELDS = ("run_id", "source", "table", "outcome", "new", "tables", "failed", "requests")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages and tracebacks are escaped by JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def setup_logging(kind: Literal["text", "json"], level: int = logging.WARNING, text_format: str | None = None) -> None:
    """Configure the root logger once per process (as logging.basicConfig: a no-op when it already has handlers).

    `text` keeps the readable lines (`text_format`, or logging's default); `json` writes JSON lines to stderr."""
    if kind == "json":
        root = logging.getLogger()
        if root.handlers:
            return
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        root.setLevel(level)
    elif text_format is None:
        logging.basicConfig(level=level)
    else:
        logging.basicConfig(level=level, format=text_format)
