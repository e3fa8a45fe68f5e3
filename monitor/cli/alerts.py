"""CLI commands for e-mail alerts: `monitor alerts send|test|status` and `monitor silence add|list|remove`.

Also the step the scheduler runs after each fetch (`alerts_after_fetch`). The clock is read here only.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email import policy
from email.utils import make_msgid
from zoneinfo import ZoneInfo

import click

from monitor.cli.context import current_settings as _settings, local_now as _now, login_name as _login_name
from monitor.alerts.mail import render_test
from monitor.alerts.conditions import find_conditions
from monitor.alerts.episodes import (
    AlertConfig,
    RecordResult,
    add_silence,
    open_episodes,
    record,
    remove_silence,
    silences,
    split_addresses,
)
from monitor.evaluate.assessment import evaluate_all
from monitor.catalogue.indicators import EMAIL, Catalogue, load_catalogue
from monitor.core.errors import ConfigError, MonitorError
from monitor.catalogue.kostra import kostra_path_for, load_kostra
from monitor.alerts.outbox import DeliveryResult, SmtpConfig, deliver, outbox_rows, smtp_connection
from monitor.core.settings import Settings
from monitor.store.database import Store

log = logging.getLogger("monitor.alerts.episodes")
# `monitor alerts send`: 0 all sent (or nothing due), 1 sending failed, HELD_EXIT_CODE nothing failed but mail is
# held by another run's claim (a run that is sending right now, or one killed mid-send) until the time it names.
HELD_EXIT_CODE = 3


# -- from the settings ------------------------------------------------------------------------------


def alert_config(settings: Settings) -> AlertConfig:
    """Recipients, sender, links and reminder interval; a malformed address is a ConfigError."""
    ops = split_addresses(settings.alert_to)
    for address in ops:
        if not EMAIL.fullmatch(address):
            raise ConfigError(f"MONITOR_ALERT_TO: {address!r} er ikke en gyldig e-postadresse")
    sender = settings.smtp_from or (ops[0] if ops else None)
    if sender is None:
        raise ConfigError("e-postvarsler trenger en avsender: sett MONITOR_SMTP_FROM (eller MONITOR_ALERT_TO)")
    if not EMAIL.fullmatch(sender):
        raise ConfigError(f"MONITOR_SMTP_FROM: {sender!r} er ikke en gyldig e-postadresse")
    return AlertConfig(ops=ops, sender=sender, base_url=settings.base_url,
                       remind_after=timedelta(days=settings.alert_remind_days), timezone=ZoneInfo(settings.timezone),
                       resync_after=timedelta(days=settings.alert_resync_after_days))


def setting_problems(settings: Settings) -> list[str]:
    """Every missing or malformed alert setting at once (`monitor alerts test`), one line each, in bokmål."""
    problems = []
    if not settings.smtp_host:
        problems.append("MONITOR_SMTP_HOST er ikke satt: e-postvarslene er slått av")
    ops = split_addresses(settings.alert_to)
    if not ops:
        problems.append("MONITOR_ALERT_TO er ikke satt: testvarselet og varslene til drift har ingen mottaker")
    problems += [f"MONITOR_ALERT_TO: {address!r} er ikke en gyldig e-postadresse"
                 for address in ops if not EMAIL.fullmatch(address)]
    if settings.smtp_from is not None and not EMAIL.fullmatch(settings.smtp_from):
        problems.append(f"MONITOR_SMTP_FROM: {settings.smtp_from!r} er ikke en gyldig e-postadresse")
    elif settings.smtp_from is None and not ops:
        problems.append("MONITOR_SMTP_FROM er ikke satt (og ingen MONITOR_ALERT_TO å bruke i stedet): e-postene har ingen avsender")
    if settings.smtp_user and settings.smtp_password is None:
        problems.append("MONITOR_SMTP_PASSWORD er ikke satt, men MONITOR_SMTP_USER er det: innloggingen på e-postserveren vil feile")
    return problems


def smtp_config(settings: Settings) -> SmtpConfig:
    """The SMTP server; ConfigError when MONITOR_SMTP_HOST is not set (alerts are off)."""
    if not settings.smtp_host:
        raise ConfigError("MONITOR_SMTP_HOST er ikke satt, så e-postvarsler er slått av")
    return SmtpConfig(settings.smtp_host, settings.smtp_port, settings.smtp_security, settings.smtp_user,
                      settings.smtp_password, settings.smtp_timeout)


@dataclass(frozen=True)
class AlertRun:
    recorded: RecordResult
    delivered: DeliveryResult


def kostra_tables(settings: Settings) -> dict[str, int]:
    """The KOSTRA comparison's SSB tables (table → rows) when kostra.yaml is next to the catalogue; else none."""
    path = kostra_path_for(settings.catalogue)
    return load_kostra(path).fetched_tables if path.exists() else {}


def run_alerts(settings: Settings, catalogue: Catalogue, store: Store, now: datetime) -> AlertRun:
    """Evaluate now, record transitions and queue what is due, then send everything pending."""
    config = alert_config(settings)
    smtp = smtp_config(settings)
    zone = ZoneInfo(settings.timezone)
    evaluations = evaluate_all(catalogue, store, now.astimezone(zone).date(), now, zone)
    findings = find_conditions(catalogue, store, evaluations, zone, kostra_tables(settings))
    recorded = record(store, catalogue, findings, config, now)
    delivered = deliver(store, lambda: smtp_connection(smtp), now)
    return AlertRun(recorded, delivered)


def alerts_after_fetch(settings: Settings, catalogue: Catalogue) -> None:
    """The scheduler's step after each fetch: like `monitor alerts send`, logged; never raises a MonitorError."""
    if not settings.smtp_host:
        return
    try:
        with Store(settings.db, create=False) as store:
            outcome = run_alerts(settings, catalogue, store, _now(settings))
    except (MonitorError, sqlite3.Error) as exc:
        log.error("varsler: %s", exc)
        return
    zone = ZoneInfo(settings.timezone)
    log.info("varsler: %s", summary(outcome, zone))
    for line in held_lines(outcome, zone):
        log.warning("varsler: %s", line)
    if outcome.delivered.error:
        log.error("varsler: %s", outcome.delivered.error)


def summary(outcome: AlertRun, zone: ZoneInfo) -> str:
    """One line in bokmål."""
    rec, sent = outcome.recorded, outcome.delivered
    parts = [
        f"{rec.opened} nye og {rec.resolved} løste episoder",
        f"{len(rec.outbox_ids)} e-post(er) lagt i kø med {rec.notices} varsler",
        f"{sent.sent} sendt",
        f"{sent.pending} venter",
    ]
    if rec.startup is not None:
        why = "første vurdering" if rec.startup == "first" else "første vurdering etter et opphold"
        parts.insert(2, f"{why}: én oppsummering per mottaker i stedet for ett varsel per episode")
    if sent.held:
        last = max(held.expires for held in sent.held)
        parts.append(f"{len(sent.held)} holdt av en annen kjøring (til senest {local_time(last, zone)})")
    if rec.silenced:
        parts.append(f"{rec.silenced} dempet")
    if rec.unroutable:
        parts.append(f"{rec.unroutable} uten mottaker (sett MONITOR_ALERT_TO)")
    return "; ".join(parts) + "."


def held_lines(outcome: AlertRun, zone: ZoneInfo) -> list[str]:
    """One line per message another run has claimed: which, and from when the next run may send it."""
    return [
        f"#{held.id} «{held.subject}» er tatt av en annen kjøring (som sender nå, eller ble stoppet underveis); "
        f"den sendes av første `monitor alerts send` etter {local_time(held.expires, zone)}"
        for held in outcome.delivered.held
    ]


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """27.11.2026 kl. 09:30, in the configured time zone."""
    return f"{moment.astimezone(zone):%d.%m.%Y} kl. {moment.astimezone(zone):%H:%M}"


# -- monitor alerts ------------------------------------------------------------------------------------


@click.group()
def alerts() -> None:
    """E-postvarsler: send det som er forfalt, send en test, se åpne varsler."""


@alerts.command("send")
def alerts_send() -> None:
    """Vurder alle indikatorer nå, registrer nye og løste varsler og send e-postene som venter.

    Kode 0: alt er sendt; 1: sendingen feilet (e-postene blir liggende i køen); 3: ingen feil, men e-poster er tatt
    av en annen kjøring og sendes først når kravet utløper (tidspunktet står i meldingen)."""
    settings = _settings()
    smtp_config(settings), alert_config(settings)  # fail on the settings before touching anything
    catalogue = load_catalogue(settings.catalogue)
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        outcome = run_alerts(settings, catalogue, store, _now(settings))
    zone = ZoneInfo(settings.timezone)
    click.echo(f"Varsler: {summary(outcome, zone)}")
    for line in held_lines(outcome, zone):
        click.echo(f"Holdt: {line}", err=True)
    if outcome.delivered.error:
        click.echo(f"Feil ved sending (prøves igjen neste gang): {outcome.delivered.error}", err=True)
        click.get_current_context().exit(1)
    if outcome.delivered.held:
        click.get_current_context().exit(HELD_EXIT_CODE)


@alerts.command("test")
def alerts_test() -> None:
    """Send en test-e-post til MONITOR_ALERT_TO; sier fra om alle innstillinger som mangler, og om kildeeiere
    som ikke er bekreftet."""
    settings = _settings()
    unconfirmed = load_catalogue(settings.catalogue).unconfirmed_owners
    if unconfirmed:
        click.echo(f"Ikke bekreftede kildeeiere ({len(unconfirmed)}; confirmed: false i katalogen): de får ingen "
                   "e-post, varslene deres går til MONITOR_ALERT_TO.")
        for entry in unconfirmed:
            click.echo(f"  {entry.name}: {entry.owner}")
    if "base_url" not in settings.model_fields_set:
        click.echo(f"Merk: MONITOR_BASE_URL er ikke satt, så lenkene i e-postene går til {settings.base_url}.")
    problems = setting_problems(settings)
    if problems:
        raise ConfigError(f"{len(problems)} innstilling(er) for e-postvarsler mangler eller er feil:\n"
                          + "\n".join(f"  {problem}" for problem in problems))
    config = alert_config(settings)
    smtp = smtp_config(settings)
    message = render_test(config, config.ops, smtp.server, _now(settings))
    message["Message-ID"] = make_msgid(idstring="test", domain=config.sender.rpartition("@")[2])
    with smtp_connection(smtp) as mailer:
        mailer.send(config.sender, list(config.ops), message.as_bytes(policy=policy.SMTP))
    click.echo(f"Testvarsel sendt til {', '.join(config.ops)} via {smtp.server}.")


@alerts.command("status")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def alerts_status(fmt: str) -> None:
    """Vis åpne varsler og de siste e-postene i utboksen."""
    settings = _settings()
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        episodes = open_episodes(store)
        rows = outbox_rows(store)
    if fmt == "json":
        click.echo(json.dumps({"open": episodes, "outbox": rows}, ensure_ascii=False, indent=2))
        return
    click.echo(f"Åpne varsler: {len(episodes)}")
    for episode in episodes:
        notified = episode["last_notified_at"] or "ikke varslet"
        click.echo(f"  {episode['kind']:14} {episode['subject']:40} åpnet {episode['opened_at']}  varslet {notified}")
    click.echo(f"Utboksen (siste {len(rows)}):")
    for row in rows:
        state = f"sendt {row['sent_at']}" if row["sent_at"] else f"venter ({row['attempts']} forsøk)"
        error = f" – {row['last_error']}" if row["last_error"] and not row["sent_at"] else ""
        click.echo(f"  #{row['id']:<5} {state:32} {row['subject']}{error}")


# -- monitor silence -----------------------------------------------------------------------------------


def parse_until(text: str, zone: ZoneInfo) -> datetime:
    """--until: a date (silenced through that whole day, local time) or a local date and time."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text) + timedelta(days=1), time(0), zone)
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: skriv ÅÅÅÅ-MM-DD (eller ÅÅÅÅ-MM-DDTHH:MM)", param_hint="--until") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


@click.group()
def silence() -> None:
    """Demp varsler for en indikator eller kilde i en periode, med en begrunnelse."""


@silence.command("add")
@click.argument("target", metavar="INDICATOR|SOURCE")
@click.option("--until", "until_text", required=True, help="Til og med denne datoen (ÅÅÅÅ-MM-DD), lokal tid.")
@click.option("--reason", required=True, help="Hvorfor varslene dempes.")
@click.option("--by", "actor", help="Hvem som demper (ellers MONITOR_IMPORT_BY eller brukernavnet).")
def silence_add(target: str, until_text: str, reason: str, actor: str | None) -> None:
    """Demp alle varsler om en indikator (id), en kilde (kildeteksten, f.eks. «Asker kommune»), en hentekilde
    (ssb, fhi, udir) eller en tabell (ssb:12143)."""
    settings = _settings()
    zone = ZoneInfo(settings.timezone)
    until = parse_until(until_text, zone)
    catalogue = load_catalogue(settings.catalogue)
    who = actor or settings.import_by or _login_name()
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        ident = add_silence(store, catalogue, target, until, reason, who, _now(settings), kostra_tables(settings))
    ends = until.astimezone(zone)
    click.echo(f"Demping {ident}: varsler om {target} sendes ikke før {ends:%Y-%m-%d %H:%M} ({reason}).")


@silence.command("list")
@click.option("--all", "show_all", is_flag=True, help="Ta med utløpte og fjernede dempinger.")
def silence_list(show_all: bool) -> None:
    """Vis dempingene som gjelder (med --all: alle)."""
    settings = _settings()
    zone = ZoneInfo(settings.timezone)
    now = _now(settings)
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        found = silences(store, now, include_ended=show_all)
    if not found:
        click.echo("Ingen dempinger." if show_all else "Ingen dempinger gjelder nå.")
        return
    for item in found:
        status = "gjelder" if item.active(now) else ("fjernet" if item.removed_at else "utløpt")
        click.echo(
            f"{item.id:>4}  {item.target:40}  til {item.until.astimezone(zone):%Y-%m-%d %H:%M}  {status:8}  "
            f"{item.created_by or '–'}: {item.reason}"
        )


@silence.command("remove")
@click.argument("silence_id", metavar="ID", type=int)
def silence_remove(silence_id: int) -> None:
    """Avslutt en demping nå."""
    settings = _settings()
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        removed = remove_silence(store, silence_id, _now(settings))
    click.echo(f"Demping {removed.id} ({removed.target}) er fjernet; varslene gjelder igjen.")

