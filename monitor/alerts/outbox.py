"""The alert outbox: e-mails are queued in SQLite, then claimed and sent one by one over SMTP.

Claim/send semantics: **at least once**, made recognisable. Each row is claimed with a compare-and-set
`UPDATE … WHERE sent_at IS NULL AND (claimed_at IS NULL OR claimed_at < stale)`, sent, then marked sent. A
process that dies between the claim and the send leaves a claim that goes stale after CLAIM_LEASE; the next
run claims the row again and sends it, once, so nothing is lost and, since nothing had gone out, nothing is
doubled. An SMTP failure releases the claim at once, so the next run retries it. The only window for a
duplicate is a crash after the server accepted the message and before `sent_at` was written (milliseconds);
there the message goes out again with the same Message-ID, Date and body, which mail systems and readers can
recognise as the same message. At-most-once (never retrying a stale claim) would instead lose every alert
caught in a crash, and a lost alert is what this outbox exists to prevent.
"""

from __future__ import annotations

import json
import smtplib
import sqlite3
import ssl
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

from pydantic import SecretStr

from monitor.core import timestamps
from monitor.core.errors import MailError
from monitor.store.database import Store
# Longer than any SMTP conversation can take (connect + send, each bounded by the SMTP timeout), so a live
# sender's claim is never taken over; a dead sender's claim is retried after this. Defined with the store's
# operations figures, which count the held messages for /metrics.
from monitor.store.ops import CLAIM_LEASE


class Mailer(Protocol):
    def send(self, sender: str, recipients: list[str], message: bytes) -> dict[str, tuple[int, bytes]]: ...


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # none | starttls | ssl
    user: str | None
    password: SecretStr | None
    timeout: float

    @property
    def server(self) -> str:
        """host:port (security), for messages; never the user or password."""
        return f"{self.host}:{self.port}" + ("" if self.security == "none" else f" ({self.security.upper()})")


class SmtpMailer:
    """One SMTP connection, with errors turned into MailError with the password scrubbed out."""

    def __init__(self, config: SmtpConfig, client: smtplib.SMTP) -> None:
        self.config = config
        self.client = client

    def send(self, sender: str, recipients: list[str], message: bytes) -> dict[str, tuple[int, bytes]]:
        try:
            return self.client.sendmail(sender, recipients, message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            raise MailError(scrub(f"{self.config.server} avviste meldingen: {exc}", self.config), connection=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(scrub(f"{self.config.server}: {_describe(exc)}", self.config), connection=True) from None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def scrub(text: str, config: SmtpConfig) -> str:
    """Never let the password into a message, a log line or the outbox's last_error."""
    secret = config.password.get_secret_value() if config.password is not None else ""
    return text.replace(secret, "***") if secret else text


@contextmanager
def smtp_connection(config: SmtpConfig) -> Iterator[SmtpMailer]:
    """Connect (plain, STARTTLS or SSL), log in when a user is set, and say QUIT at the end."""
    client: smtplib.SMTP | None = None
    try:
        if config.security == "ssl":
            client = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
            if config.security == "starttls":
                client.starttls(context=ssl.create_default_context())
        if config.user:
            password = config.password.get_secret_value() if config.password is not None else ""
            client.login(config.user, password)
    except (smtplib.SMTPException, OSError) as exc:
        if client is not None:
            _close(client)
        raise MailError(scrub(f"kan ikke sende via {config.server}: {_describe(exc)}", config), connection=True) from None
    try:
        yield SmtpMailer(config, client)
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            _close(client)


def _close(client: smtplib.SMTP) -> None:
    try:
        client.close()
    except OSError:
        pass


# -- the queue ---------------------------------------------------------------------------------------


def enqueue(
    conn: sqlite3.Connection, message: EmailMessage, sender: str, to: tuple[str, ...], cc: tuple[str, ...], now: datetime
) -> int:
    """Add a rendered message to the outbox (inside the caller's transaction) with its own stable Message-ID."""
    domain = sender.rpartition("@")[2] or "localhost"
    message_id = make_msgid(idstring="varsel", domain=domain)
    del message["Message-ID"]
    message["Message-ID"] = message_id
    text = message.as_string(policy=policy.SMTP)
    cursor = conn.execute(
        "INSERT INTO alert_outbox (message_id, created_at, sender, mail_to, mail_cc, subject, message) "
        "VALUES (?,?,?,?,?,?,?)",
        (message_id, timestamps.encode(now), sender, json.dumps(list(to)), json.dumps(list(cc)), str(message["Subject"]), text),
    )
    assert cursor.lastrowid is not None
    return int(cursor.lastrowid)


def _stale(now: datetime) -> str:
    return timestamps.encode(now - CLAIM_LEASE)


def pending_ids(store: Store, now: datetime) -> list[int]:
    """Rows not sent and not claimed by a live sender, oldest first."""
    rows = store.conn.execute(
        "SELECT id FROM alert_outbox WHERE sent_at IS NULL AND (claimed_at IS NULL OR claimed_at < ?) ORDER BY id",
        (_stale(now),),
    )
    return [row[0] for row in rows]


def claim(store: Store, outbox_id: int, now: datetime, token: str) -> bool:
    """Compare-and-set: take the row for this sender unless it is sent or claimed by a live sender."""
    cursor = store.conn.execute(
        "UPDATE alert_outbox SET claimed_at = ?, claim_token = ?, attempts = attempts + 1 "
        "WHERE id = ? AND sent_at IS NULL AND (claimed_at IS NULL OR claimed_at < ?)",
        (timestamps.encode(now), token, outbox_id, _stale(now)),
    )
    return cursor.rowcount == 1


def mark_sent(store: Store, outbox_id: int, token: str, now: datetime, note: str | None = None) -> bool:
    """Record the delivery; False if the claim was no longer ours (then someone else may send it too)."""
    cursor = store.conn.execute(
        "UPDATE alert_outbox SET sent_at = ?, last_error = ? WHERE id = ? AND claim_token = ? AND sent_at IS NULL",
        (timestamps.encode(now), note, outbox_id, token),
    )
    return cursor.rowcount == 1


def release(store: Store, outbox_id: int, token: str, error: str) -> None:
    """Give the row back after a failed send, with the error, for the next run."""
    store.conn.execute(
        "UPDATE alert_outbox SET claimed_at = NULL, claim_token = NULL, last_error = ? WHERE id = ? AND claim_token = ?",
        (error, outbox_id, token),
    )


@dataclass(frozen=True)
class Queued:
    id: int
    message_id: str
    sender: str
    recipients: list[str]
    subject: str
    message: str


def load(store: Store, outbox_id: int) -> Queued:
    row = store.conn.execute(
        "SELECT id, message_id, sender, mail_to, mail_cc, subject, message FROM alert_outbox WHERE id = ?", (outbox_id,)
    ).fetchone()
    ident, message_id, sender, to, cc, subject, message = row
    return Queued(ident, message_id, sender, list(dict.fromkeys(json.loads(to) + json.loads(cc))), subject, message)


@dataclass(frozen=True)
class Held:
    """A message not sent and claimed by another run whose lease has not run out (a live sender, or a killed one)."""

    id: int
    subject: str
    expires: datetime  # when the claim goes stale: the first run after this sends it


def held_rows(store: Store, now: datetime) -> list[Held]:
    """The messages no run can send before their claim expires, oldest first."""
    rows = store.conn.execute(
        "SELECT id, subject, claimed_at FROM alert_outbox WHERE sent_at IS NULL AND claimed_at >= ? ORDER BY id",
        (_stale(now),),
    )
    return [Held(ident, subject, timestamps.decode(claimed) + CLAIM_LEASE) for ident, subject, claimed in rows]


@dataclass(frozen=True)
class DeliveryResult:
    sent: int
    failed: int  # messages refused this time (left pending)
    pending: int  # left in the outbox after this run, free for the next run
    error: str | None  # the first error, for the operator (password scrubbed)
    held: tuple[Held, ...] = ()  # left in the outbox, claimed by another run until their claim expires


def deliver(store: Store, connect: Callable[[], AbstractContextManager[Mailer]], now: datetime) -> DeliveryResult:
    """Send every pending row: claim, send, mark. `connect()` is a context manager giving a Mailer.

    Nothing is claimed until the server has answered, so an unreachable server leaves the queue as it was.
    """
    sent = failed = 0
    error: str | None = None
    ids = pending_ids(store, now)
    if ids:
        try:
            with connect() as mailer:
                for outbox_id in ids:
                    token = uuid.uuid4().hex
                    if not claim(store, outbox_id, now, token):
                        continue  # sent or claimed by another run meanwhile
                    queued = load(store, outbox_id)
                    try:
                        refused = mailer.send(queued.sender, queued.recipients, queued.message.encode("ascii"))
                    except MailError as exc:
                        release(store, outbox_id, token, str(exc))
                        failed += 1
                        error = error or str(exc)
                        if exc.connection:
                            raise
                        continue
                    note = "avvist av serveren: " + ", ".join(sorted(refused)) if refused else None
                    mark_sent(store, outbox_id, token, now, note)
                    sent += 1
        except MailError as exc:
            error = error or str(exc)
    return DeliveryResult(sent, failed, len(pending_ids(store, now)), error, tuple(held_rows(store, now)))


def outbox_rows(store: Store, *, limit: int = 50) -> list[dict[str, object]]:
    """The newest outbox rows (for `monitor alerts status`)."""
    cursor = store.conn.execute(
        "SELECT id, created_at, subject, mail_to, mail_cc, attempts, claimed_at, sent_at, last_error "
        "FROM alert_outbox ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor]
