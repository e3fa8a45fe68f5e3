"""The MonitorError tree: every error the monitor reports to a user.

MonitorError
 ├── ConfigError        a setting (MONITOR_*) is missing or malformed
 ├── CatalogueError     indicators.yaml is malformed; carries one located line per problem
 ├── ImportFileError    an import file has bad rows; carries one located line per problem
 ├── StoreError         the SQLite store cannot be opened, migrated or written
 └── FetchError         a source could not be fetched (retryable or not)
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base class: a problem that is reported to the user as a message, never a traceback."""


class ConfigError(MonitorError):
    """A MONITOR_* setting is missing or malformed."""


class ProblemListError(MonitorError):
    """An error made of several located problems, each one line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class CatalogueError(ProblemListError):
    """The catalogue file has one or more problems (file:line: indicator → field: message)."""


class ImportFileError(ProblemListError):
    """An import file has one or more bad rows (file:line: message); nothing was stored."""


class StoreError(MonitorError):
    """The SQLite store cannot be opened, migrated or written."""


class FetchError(MonitorError):
    """A source could not be fetched. `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        self.retryable = retryable
        super().__init__(message)
