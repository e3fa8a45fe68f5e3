"""The MonitorError tree: every error the monitor reports to a user, all defined here.

Each class says how the two boundaries report it: `http_status` (the web's error page or /api JSON) and `exit_code`
(the `monitor` command). A list of located problems exits with 2, everything else with 1; the web shows them all
as 500. A subclass that needs other values sets its own.

MonitorError               500 / 1
 ├── ConfigError           a setting (MONITOR_*) is missing or malformed
 ├── ProblemListError      several located problems, one line each                          500 / 2
 │    ├── CatalogueError   indicators.yaml is malformed; one located line per problem       500 / 2
 │    └── ImportFileError  an import file has bad rows; one located line per problem        500 / 2
 ├── StoreError            the SQLite store cannot be opened, migrated or written
 ├── FetchError            a source could not be fetched (retryable or not)
 │    ├── TooManyCells     the source refused the query as too large: split it
 │    ├── IndicatorRefused  one indicator cannot be asked of its table (a code or label the table lacks)
 │    └── SourceUnreachable  the source cannot be reached at all
 ├── UserError             a web user cannot be added or removed as asked
 ├── LockHeld              another scheduler holds the lock on the database
 ├── MailError             an alert e-mail could not be sent
 └── SilenceError          an alert silence cannot be added or removed as asked

Not in the tree, because they never reach a user as such: yamlpos.DuplicateKeyError (becomes a CatalogueError),
jsonstat.JsonStatError (a failed table of a fetch run) and handlingsprogram.SeedError (the developers' seed parser).
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base class: a problem that is reported to the user as a message, never a traceback."""

    http_status = 500
    exit_code = 1


class ConfigError(MonitorError):
    """A MONITOR_* setting is missing or malformed."""

    http_status = 500
    exit_code = 1


class ProblemListError(MonitorError):
    """An error made of several located problems, each one line."""

    http_status = 500
    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class CatalogueError(ProblemListError):
    """The catalogue file has one or more problems (file:line: indicator → field: message)."""

    http_status = 500
    exit_code = 2


class ImportFileError(ProblemListError):
    """An import file has one or more bad rows (file:line: message); nothing was stored."""

    http_status = 500
    exit_code = 2


class StoreError(MonitorError):
    """The SQLite store cannot be opened, migrated or written."""

    http_status = 500
    exit_code = 1


class FetchError(MonitorError):
    """A source could not be fetched. `retryable` says whether trying again may help."""

    http_status = 500
    exit_code = 1

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        self.retryable = retryable
        super().__init__(message)


class TooManyCells(FetchError):
    """The source refused the query as too large (403/400 "too many cells/values"): split it, don't retry as is."""

    http_status = 500
    exit_code = 1


class IndicatorRefused(FetchError):
    """One indicator cannot be asked of its table (a code the table lacks, a label that resolves to no code or to
    several): that indicator fails alone, with this one sentence, and the table's other indicators are stored."""

    http_status = 500
    exit_code = 1

    def __init__(self, message: str, *, table: str = "") -> None:
        self.table = table  # the table the indicator was refused by
        super().__init__(message)


class SourceUnreachable(FetchError):
    """The source cannot be reached at all (connection refused, DNS, …): every table of the run fails alike."""

    http_status = 500
    exit_code = 1


class UserError(MonitorError):
    """A user cannot be added or removed (bad name, bad password, exists, unknown)."""

    http_status = 500
    exit_code = 1


class LockHeld(MonitorError):
    """Another scheduler holds the lock on this database."""

    http_status = 500
    exit_code = 1


class MailError(MonitorError):
    """Sending failed. `connection`: the server is unreachable or hung up (stop); else only this message failed."""

    http_status = 500
    exit_code = 1

    def __init__(self, message: str, *, connection: bool) -> None:
        self.connection = connection
        super().__init__(message)


class SilenceError(MonitorError):
    """A silence cannot be added or removed as asked."""

    http_status = 500
    exit_code = 1
