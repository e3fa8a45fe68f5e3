"""E-mail alerts against a real SMTP server in the process (aiosmtpd on 127.0.0.1): episodes, reminders,
resolved notices, routing, silences, the outbox's claim/send semantics, MIME, the CLI, and the password."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from support.catalogues import BEHAVIOUR_CATALOGUE, baseline_for, load_behaviour_catalogue
from support.paths import REPO
from monitor.alerts.conditions import find_conditions
from monitor.alerts.episodes import add_silence, record, remove_silence, silences
from monitor.evaluate.assessment import evaluate_all
from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.cli.main import cli
from monitor.cli.alerts import alert_config, alerts_after_fetch, run_alerts, smtp_config
from monitor.core.errors import CatalogueError
from monitor.core.model import Observation, RunRecord
from monitor.alerts.outbox import CLAIM_LEASE, SmtpConfig, claim, deliver, load, pending_ids, scrub, smtp_connection
from monitor.core.settings import Settings
from monitor.store.database import Store
from support.smtp_server import SmtpServer, free_port

# aiosmtpd 1.4 warns on every successful AUTH (its own deprecated attribute), in the server's thread.
pytestmark = pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning")
OSLO = ZoneInfo("Europe/Oslo")
OPS = "drift@asker.test"
OWNER = "statistikk@asker.test"
REGION = "3203"
# sykefravaer (annual, register "Asker kommune"): period 2025 is due 30 June 2026, late after 14 July.
BEFORE_LATE = datetime(2026, 7, 10, 8, 0, tzinfo=OSLO)
LATE = datetime(2026, 7, 20, 8, 0, tzinfo=OSLO)

CATALOGUE = """
municipality:
  name: Asker
  codes:
    - {code: "0220", first_year: null, last_year: 2019}
    - {code: "3025", first_year: 2020, last_year: 2023}
    - {code: "3203", first_year: 2024, last_year: null}
indicators:
  - id: netto_driftsresultat
    name: Netto driftsresultat som andel av brutto driftsinntekter (> 3 %)
    area: Økonomi
    hovedmal: Asker er en økonomisk robust og bærekraftig kommune
    delmal: Asker kommune har en god økonomisk bærekraft
    source: {kind: ssb, name: SSB 12143, table: "12143"}
    fetch:
      series:
        driftsresultat:
          table: "12143"
          region: {dimension: KOKkommuneregion0000}
          select: {KOKartkap0000: AGD23, ContentsCode: KOSbelopbrinv0000}
      value: driftsresultat
    frequency: annual
    unit: percent
    symbol: "%"
    decimals: 1
    direction: higher_is_better
  - id: sykefravaer
    name: Sykefraværsprosent (< 7 %)
    area: Medarbeidere
    hovedmal: Asker kommune fremmer inkludering, full sysselsetting og anstendig arbeid for alle
    delmal: Asker kommune sikrer de ansattes rettigheter og fremmer et trygt og sikkert arbeidsmiljø for alle
    source: {kind: register, name: Asker kommune}
    frequency: annual
    unit: share
    symbol: "%"
    decimals: 1
    direction: lower_is_better
    target: {kind: threshold, op: "<", value: 7, text: "under 7 %"}
sources:
  - {name: "Asker kommune", owner: "statistikk@asker.test"}
"""


@pytest.fixture
def catalogue(tmp_path: Path) -> Catalogue:
    path = tmp_path / "alerts.yaml"
    path.write_text(CATALOGUE, encoding="utf-8")
    return load_catalogue(path)


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    running = SmtpServer().start()
    yield running
    running.stop()


def settings_for(tmp_path: Path, port: int, **extra: object) -> Settings:
    values: dict[str, object] = {
        "db": tmp_path / "monitor.db", "catalogue": tmp_path / "alerts.yaml", "smtp_host": "127.0.0.1",
        "smtp_port": port, "alert_to": OPS, "base_url": "https://monitor.asker.test", "smtp_timeout": 5.0,
    }
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


def observe(store: Store, indicator_id: str, period: str, value: float, when: datetime, source: str = "import") -> None:
    run = RunRecord(source=source, target=indicator_id, started_at=when, finished_at=when)
    store.write_run(run, [Observation(indicator_id, REGION, period, value, None, source)])


def cli_env(tmp_path: Path) -> dict[str, str]:
    """The CLI on the behaviour fixture catalogue (with source owners) and its slice of the printed baseline."""
    return {"MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(BEHAVIOUR_CATALOGUE),
            "MONITOR_BASELINE": str(baseline_for(load_behaviour_catalogue(), tmp_path))}


@pytest.fixture
def seeded(store: Store) -> Store:
    """sykefravaer up to 2024 (so 2025 is awaited), netto_driftsresultat fetched up to date (2025)."""
    observe(store, "sykefravaer", "2024", 6.1, datetime(2025, 6, 1, tzinfo=OSLO))
    observe(store, "netto_driftsresultat", "2025", 3.4, datetime(2026, 3, 20, tzinfo=OSLO), source="ssb")
    return store


def test_a_source_going_late_sends_exactly_one_email_and_a_second_run_none(
    tmp_path: Path, catalogue: Catalogue, seeded: Store, server: SmtpServer
) -> None:
    settings = settings_for(tmp_path, server.port)
    first = run_alerts(settings, catalogue, seeded, BEFORE_LATE)  # due, within the grace period: no alert
    assert first.recorded.opened == 0 and server.received == []
    run_alerts(settings, catalogue, seeded, LATE)
    assert len(server.received) == 1
    message = server.received[0].message
    assert message["Subject"] == "Indikatormonitor: Forsinket – Sykefraværsprosent"
    assert message["To"] == OWNER and message["Cc"] == OPS
    assert sorted(server.received[0].rcpt_tos) == sorted([OWNER, OPS])
    again = run_alerts(settings, catalogue, seeded, LATE + timedelta(hours=2))
    assert again.recorded.outbox_ids == [] and len(server.received) == 1


def test_a_reminder_after_seven_days_and_one_resolved_email_on_recovery(
    tmp_path: Path, catalogue: Catalogue, seeded: Store, server: SmtpServer
) -> None:
    settings = settings_for(tmp_path, server.port)
    run_alerts(settings, catalogue, seeded, LATE)
    run_alerts(settings, catalogue, seeded, LATE + timedelta(days=6))
    assert len(server.received) == 1
    run_alerts(settings, catalogue, seeded, LATE + timedelta(days=7, minutes=-5))  # today's run a bit earlier
    assert len(server.received) == 2
    reminder = server.received[1].message
    assert reminder["Subject"] == "Indikatormonitor: Påminnelse: forsinket – Sykefraværsprosent"
    assert "åpnet 20. juli 2026" in reminder.get_body(("plain",)).get_content()
    run_alerts(settings, catalogue, seeded, LATE + timedelta(days=8))
    assert len(server.received) == 2
    observe(seeded, "sykefravaer", "2025", 5.8, LATE + timedelta(days=9))
    run_alerts(settings, catalogue, seeded, LATE + timedelta(days=9, hours=1))
    assert len(server.received) == 3
    resolved = server.received[2].message
    assert resolved["Subject"] == "Indikatormonitor: Løst: forsinket – Sykefraværsprosent"
    assert resolved["To"] == OWNER and resolved["Cc"] == OPS
    run_alerts(settings, catalogue, seeded, LATE + timedelta(days=20))
    assert len(server.received) == 3
    episode = seeded.conn.execute("SELECT reminders, resolved_at, resolved_notified FROM alert_episodes").fetchone()
    assert episode[0] == 1 and episode[1] is not None and episode[2] == 1


def test_with_the_smtp_server_down_nothing_is_lost_and_it_is_sent_once_when_back(
    tmp_path: Path, catalogue: Catalogue, seeded: Store
) -> None:
    down = SmtpServer(free_port())
    settings = settings_for(tmp_path, down.port)
    outcome = run_alerts(settings, catalogue, seeded, LATE)
    assert outcome.delivered.sent == 0 and outcome.delivered.pending == 1
    assert outcome.delivered.error is not None and "127.0.0.1" in outcome.delivered.error
    row = seeded.conn.execute("SELECT claimed_at, sent_at, attempts FROM alert_outbox").fetchone()
    assert row == (None, None, 0)  # never claimed: the server did not answer
    down.start()
    try:
        back = run_alerts(settings, catalogue, seeded, LATE + timedelta(hours=1))
        assert back.delivered.sent == 1 and back.delivered.pending == 0 and back.recorded.outbox_ids == []
        run_alerts(settings, catalogue, seeded, LATE + timedelta(hours=2))
        assert len(down.received) == 1
        assert down.received[0].message["Subject"] == "Indikatormonitor: Forsinket – Sykefraværsprosent"
    finally:
        down.stop()


def test_a_failure_in_the_middle_of_a_conversation_leaves_the_message_pending(
    tmp_path: Path, catalogue: Catalogue, seeded: Store, server: SmtpServer
) -> None:
    from monitor.core.errors import MailError

    settings = settings_for(tmp_path, server.port)
    record(seeded, catalogue, find_conditions(catalogue, seeded, evaluate_all(catalogue, seeded, LATE.date(), LATE, OSLO)),
           alert_config(settings), LATE)

    class Hangs:
        def __enter__(self) -> Hangs:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def send(self, sender: str, recipients: list[str], message: bytes) -> dict[str, tuple[int, bytes]]:
            raise MailError("127.0.0.1: SMTPServerDisconnected", connection=True)

    result = deliver(seeded, Hangs, LATE)
    assert (result.sent, result.failed, result.pending) == (0, 1, 1)
    row = seeded.conn.execute("SELECT claimed_at, claim_token, attempts, last_error FROM alert_outbox").fetchone()
    assert row[:3] == (None, None, 1) and "SMTPServerDisconnected" in row[3]
    config = smtp_config(settings)
    assert deliver(seeded, lambda: smtp_connection(config), LATE).sent == 1
    assert len(server.received) == 1


def test_a_restart_between_claim_and_send_causes_no_duplicate(
    tmp_path: Path, catalogue: Catalogue, seeded: Store, server: SmtpServer
) -> None:
    settings = settings_for(tmp_path, server.port)
    findings = find_conditions(catalogue, seeded, evaluate_all(catalogue, seeded, LATE.date(), LATE, OSLO))
    queued = record(seeded, catalogue, findings, alert_config(settings), LATE)
    assert len(queued.outbox_ids) == 1
    # A sender claims the row, then "crashes" before sending.
    assert [claim(seeded, i, LATE, "dead-sender") for i in pending_ids(seeded, LATE)] == [True]
    config = smtp_config(settings)

    def connect() -> object:
        return smtp_connection(config)

    # Restarted at once: the claim is still within its lease, so nobody else sends it (no double send).
    assert deliver(seeded, connect, LATE + timedelta(minutes=1)).sent == 0  # type: ignore[arg-type]
    assert server.received == []
    # Once the lease has run out the claim is stale: sent exactly once.
    later = LATE + CLAIM_LEASE + timedelta(minutes=1)
    assert deliver(seeded, connect, later).sent == 1  # type: ignore[arg-type]
    assert deliver(seeded, connect, later + timedelta(hours=1)).sent == 0  # type: ignore[arg-type]
    assert run_alerts(settings, catalogue, seeded, later + timedelta(hours=2)).delivered.sent == 0
    assert len(server.received) == 1
    message_id = seeded.conn.execute("SELECT message_id FROM alert_outbox").fetchone()[0]
    assert server.received[0].message["Message-ID"] == message_id


def test_a_crash_after_sending_resends_with_the_same_message_id(
    tmp_path: Path, catalogue: Catalogue, seeded: Store, server: SmtpServer
) -> None:
    """The at-least-once window: sent but not marked. The copy is byte-for-byte the same message."""
    settings = settings_for(tmp_path, server.port)
    findings = find_conditions(catalogue, seeded, evaluate_all(catalogue, seeded, LATE.date(), LATE, OSLO))
    outbox_id = record(seeded, catalogue, findings, alert_config(settings), LATE).outbox_ids[0]
    assert claim(seeded, outbox_id, LATE, "dies-after-send")
    queued = load(seeded, outbox_id)
    config = smtp_config(settings)
    with smtp_connection(config) as mailer:
        mailer.send(queued.sender, queued.recipients, queued.message.encode("ascii"))
    assert deliver(seeded, lambda: smtp_connection(config), LATE + CLAIM_LEASE + timedelta(minutes=1)).sent == 1
    assert len(server.received) == 2
    first, second = (received.message for received in server.received)
    assert first["Message-ID"] == second["Message-ID"] and first["Date"] == second["Date"]
    assert first.as_bytes() == second.as_bytes()


def test_messages_are_valid_mime_with_both_parts_links_and_bokmal_subjects(
    tmp_path: Path, catalogue: Catalogue, seeded: Store, server: SmtpServer
) -> None:
    settings = settings_for(tmp_path, server.port)
    run_alerts(settings, catalogue, seeded, LATE)
    message = server.received[0].message
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["From"].addresses[0].addr_spec == OPS  # no MONITOR_SMTP_FROM: the first ops address
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@asker.test>")
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "https://monitor.asker.test/indikator/sykefravaer" in body
        assert "https://monitor.asker.test/kilder" in body
        assert "Tall for 2025 mangler" in body
        assert "eier av kilden «Asker kommune»" in body
    assert "Nye varsler (1)" in text and "<h2" in html and "Sykefraværsprosent</a>" in html
    raw = server.received[0].data
    assert raw.isascii()  # 7-bit on the wire: æøå in quoted-printable and RFC 2047 words


def test_one_digest_per_recipient_and_fetch_failures_go_to_ops_only(
    tmp_path: Path, catalogue: Catalogue, seeded: Store, server: SmtpServer
) -> None:
    when = LATE - timedelta(hours=1)
    seeded.record_failure(RunRecord("ssb", "12143", when, when), "HTTP 503 fra SSB")
    observe(seeded, "sykefravaer", "2025", 7.4, datetime(2026, 7, 1, tzinfo=OSLO))  # not late, but off target
    run_alerts(settings_for(tmp_path, server.port), catalogue, seeded, LATE)
    assert len(server.received) == 1  # ops: one digest with both
    message = server.received[0].message
    assert message["To"] == OPS and message["Cc"] is None
    assert message["Subject"] == "Indikatormonitor: 2 varsler (2 nye)"
    text = message.get_body(("plain",)).get_content()
    assert "Innhenting feiler: SSB-tabell 12143" in text and "HTTP 503 fra SSB" in text
    assert "Målet er ikke nådd: Sykefraværsprosent" in text


def test_a_failing_kostra_table_alerts_ops_and_its_recovery_is_told(
    tmp_path: Path, catalogue: Catalogue, seeded: Store, server: SmtpServer
) -> None:
    (tmp_path / "kostra.yaml").write_bytes((REPO / "kostra.yaml").read_bytes())  # next to alerts.yaml
    settings = settings_for(tmp_path, server.port)
    when = BEFORE_LATE - timedelta(hours=1)
    seeded.record_failure(RunRecord("ssb-kostra", "12255", when, when), "tabell 12255: HTTP 400 fra SSB")
    run_alerts(settings, catalogue, seeded, BEFORE_LATE)  # nothing else is wrong yet
    assert len(server.received) == 1
    message = server.received[0].message
    assert message["To"] == OPS and message["Subject"] == "Indikatormonitor: Innhenting feiler – SSB KOSTRA-tabell 12255"
    text = message.get_body(("plain",)).get_content()
    assert "HTTP 400 fra SSB" in text and "rader i KOSTRA-sammenligningen" in text
    assert "https://monitor.asker.test/kostra" in text
    # The table is fetched again the next day: one resolved notice.
    later = BEFORE_LATE + timedelta(days=1)
    seeded.write_run(RunRecord("ssb-kostra", "12255", later, later), [])
    run_alerts(settings, catalogue, seeded, later)
    assert len(server.received) == 2
    assert server.received[1].message["Subject"] == "Indikatormonitor: Løst: innhenting feiler – SSB KOSTRA-tabell 12255"
    # Without kostra.yaml next to the catalogue, KOSTRA tables are not looked at.
    (tmp_path / "kostra.yaml").unlink()
    seeded.record_failure(RunRecord("ssb-kostra", "12255", later, later), "igjen")
    run_alerts(settings, catalogue, seeded, later + timedelta(hours=1))
    assert len(server.received) == 2


def test_late_while_the_fetch_fails_is_neither_opened_nor_resolved(
    tmp_path: Path, catalogue: Catalogue, store: Store, server: SmtpServer
) -> None:
    observe(store, "sykefravaer", "2025", 6.0, datetime(2026, 7, 1, tzinfo=OSLO))
    observe(store, "netto_driftsresultat", "2024", 3.4, datetime(2025, 3, 20, tzinfo=OSLO), source="ssb")
    settings = settings_for(tmp_path, server.port)
    run_alerts(settings, catalogue, store, LATE)  # netto_driftsresultat 2025 is late (due 15 March)
    assert [r.message["Subject"] for r in server.received] == [
        "Indikatormonitor: Forsinket – Netto driftsresultat som andel av brutto driftsinntekter"
    ]
    failed_at = LATE + timedelta(days=1)
    store.record_failure(RunRecord("ssb", "12143", failed_at, failed_at), "tidsavbrudd")
    run_alerts(settings, catalogue, store, failed_at + timedelta(minutes=5))
    assert [r.message["Subject"] for r in server.received][1:] == [
        "Indikatormonitor: Innhenting feiler – SSB-tabell 12143"
    ]
    late_open = store.conn.execute(
        "SELECT COUNT(*) FROM alert_episodes WHERE kind = 'late' AND resolved_at IS NULL").fetchone()[0]
    assert late_open == 1  # not resolved just because the fetch broke


def test_silences_suppress_and_expire(tmp_path: Path, catalogue: Catalogue, seeded: Store, server: SmtpServer) -> None:
    settings = settings_for(tmp_path, server.port)
    ident = add_silence(seeded, catalogue, "Asker kommune", LATE + timedelta(days=3), "Tallene leveres i august",
                        "kari", LATE - timedelta(days=1))
    assert [s.id for s in silences(seeded, LATE)] == [ident]
    outcome = run_alerts(settings, catalogue, seeded, LATE)
    assert outcome.recorded.silenced == 1 and server.received == []
    run_alerts(settings, catalogue, seeded, LATE + timedelta(days=2))
    assert server.received == []
    assert silences(seeded, LATE + timedelta(days=3)) == []  # expired: no longer in force
    run_alerts(settings, catalogue, seeded, LATE + timedelta(days=3, hours=1))
    assert [r.message["Subject"] for r in server.received] == ["Indikatormonitor: Forsinket – Sykefraværsprosent"]


def test_a_resolution_during_a_silence_sends_nothing_and_a_removed_silence_stops_applying(
    tmp_path: Path, catalogue: Catalogue, seeded: Store, server: SmtpServer
) -> None:
    settings = settings_for(tmp_path, server.port)
    run_alerts(settings, catalogue, seeded, LATE)
    assert len(server.received) == 1
    ident = add_silence(seeded, catalogue, "sykefravaer", LATE + timedelta(days=30), "kjent", None, LATE)
    run_alerts(settings, catalogue, seeded, LATE + timedelta(days=8))  # a reminder would be due
    assert len(server.received) == 1
    remove_silence(seeded, ident, LATE + timedelta(days=9))
    run_alerts(settings, catalogue, seeded, LATE + timedelta(days=9, hours=1))
    assert server.received[-1].message["Subject"].startswith("Indikatormonitor: Påminnelse")
    silence2 = add_silence(seeded, catalogue, "sykefravaer", LATE + timedelta(days=30), "kjent", None, LATE + timedelta(days=10))
    observe(seeded, "sykefravaer", "2025", 5.0, LATE + timedelta(days=11))
    run_alerts(settings, catalogue, seeded, LATE + timedelta(days=11, hours=1))
    assert len(server.received) == 2  # resolved while silenced: nothing
    assert silence2 > ident


def test_silence_commands(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    added = runner.invoke(cli, ["silence", "add", "Asker kommune", "--until", "2999-12-31", "--reason", "Venter på tall",
                                "--by", "kari"], env=env)
    assert added.exit_code == 0, added.output
    assert "Demping 1" in added.stdout and "2999-12-31" not in added.stdout and "3000-01-01 00:00" in added.stdout
    listed = runner.invoke(cli, ["silence", "list"], env=env)
    assert "Asker kommune" in listed.stdout and "gjelder" in listed.stdout and "kari: Venter på tall" in listed.stdout
    unknown = runner.invoke(cli, ["silence", "add", "finnes_ikke", "--until", "2999-01-01", "--reason", "x"], env=env)
    assert unknown.exit_code == 1 and "ukjent indikator eller kilde" in unknown.stderr
    past = runner.invoke(cli, ["silence", "add", "ssb:12143", "--until", "2001-01-01", "--reason", "x"], env=env)
    assert past.exit_code == 1 and "fram i tid" in past.stderr
    bad = runner.invoke(cli, ["silence", "add", "ssb", "--until", "neste uke", "--reason", "x"], env=env)
    assert bad.exit_code == 2 and "ÅÅÅÅ-MM-DD" in bad.stderr
    removed = runner.invoke(cli, ["silence", "remove", "1"], env=env)
    assert removed.exit_code == 0 and "fjernet" in removed.stdout
    assert runner.invoke(cli, ["silence", "list"], env=env).stdout.strip() == "Ingen dempinger gjelder nå."
    assert "fjernet" in runner.invoke(cli, ["silence", "list", "--all"], env=env).stdout
    assert runner.invoke(cli, ["silence", "remove", "1"], env=env).exit_code == 1


def test_fresh_init_then_alerts_send_delivers_and_a_second_run_delivers_nothing(tmp_path: Path, server: SmtpServer) -> None:
    env = {**cli_env(tmp_path),
           "MONITOR_SMTP_HOST": "127.0.0.1", "MONITOR_SMTP_PORT": str(server.port), "MONITOR_ALERT_TO": OPS}
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    first = runner.invoke(cli, ["alerts", "send"], env=env)
    assert first.exit_code == 0, first.output
    to_ops = [r for r in server.received if OPS in r.rcpt_tos]
    assert len(to_ops) >= 1
    count = len(server.received)
    second = runner.invoke(cli, ["alerts", "send"], env=env)
    assert second.exit_code == 0 and "0 e-post(er) lagt i kø" in second.stdout and "0 sendt" in second.stdout
    assert len(server.received) == count
    for received in server.received:  # one digest per primary recipient, none twice
        assert len(received.message.get_all("To")) == 1
    primaries = [r.message["To"] for r in server.received]
    assert len(primaries) == len(set(primaries))
    status = runner.invoke(cli, ["alerts", "status"], env=env)
    assert status.exit_code == 0 and "Åpne varsler:" in status.stdout and "sendt" in status.stdout


def test_alerts_test_sends_to_ops_and_alerts_need_a_host(tmp_path: Path, server: SmtpServer) -> None:
    env = {**cli_env(tmp_path),
           "MONITOR_SMTP_HOST": "127.0.0.1", "MONITOR_SMTP_PORT": str(server.port), "MONITOR_ALERT_TO": OPS,
           "MONITOR_SMTP_FROM": "monitor@asker.test"}
    result = CliRunner().invoke(cli, ["alerts", "test"], env=env)
    assert result.exit_code == 0, result.output
    message = server.received[0].message
    assert message["Subject"] == "Indikatormonitor: testvarsel" and message["To"] == OPS
    assert message["From"].addresses[0].addr_spec == "monitor@asker.test"
    assert message.get_content_type() == "multipart/alternative"
    off = CliRunner().invoke(cli, ["alerts", "send"], env={**env, "MONITOR_SMTP_HOST": ""})
    assert off.exit_code == 1 and "MONITOR_SMTP_HOST" in off.stderr


def test_the_smtp_password_is_used_but_never_printed_or_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "hemmelig-Passord-42"
    server = SmtpServer(user="monitor", password=secret).start()
    try:
        env = {**cli_env(tmp_path),
               "MONITOR_SMTP_HOST": "127.0.0.1", "MONITOR_SMTP_PORT": str(server.port), "MONITOR_ALERT_TO": OPS,
               "MONITOR_SMTP_USER": "monitor", "MONITOR_SMTP_PASSWORD": secret, "MONITOR_SMTP_TIMEOUT": "5"}
        runner = CliRunner()
        caplog.set_level(logging.DEBUG)
        assert runner.invoke(cli, ["init"], env=env).exit_code == 0
        good = runner.invoke(cli, ["alerts", "send"], env=env)
        assert good.exit_code == 0, good.output
        assert server.inbox.logins == [("monitor", secret)] and server.received
        wrong = {**env, "MONITOR_SMTP_PASSWORD": secret + "-feil"}
        tested = runner.invoke(cli, ["alerts", "test"], env=wrong)
        assert tested.exit_code == 1 and "535" in tested.stderr
        observe_failure = Store(tmp_path / "x.db")
        with observe_failure:
            moment = datetime(2026, 1, 5, tzinfo=OSLO)
            observe_failure.record_failure(RunRecord("ssb", "12143", moment, moment), "HTTP 500")
        settings = Settings(db=tmp_path / "x.db", catalogue=BEHAVIOUR_CATALOGUE, smtp_host="127.0.0.1",  # type: ignore[arg-type]
                            smtp_port=server.port, alert_to=OPS, smtp_user="monitor", smtp_password=secret + "-feil",
                            smtp_timeout=5.0)
        alerts_after_fetch(settings, load_behaviour_catalogue())
        assert "535" in caplog.text  # the refusal is logged ...
        for text in (good.output, tested.output, caplog.text, repr(settings), str(smtp_config(settings))):
            assert secret not in text  # ... never the password
        with Store(tmp_path / "x.db") as store:
            errors = [row[0] or "" for row in store.conn.execute("SELECT last_error FROM alert_outbox")]
        assert not any(secret in error for error in errors)
    finally:
        server.stop()


def test_scrub_removes_the_password_from_any_error_text() -> None:
    config = SmtpConfig("mail", 25, "none", "u", __import__("pydantic").SecretStr("s3cret"), 5.0)
    assert scrub("535 bad credentials for u/s3cret", config) == "535 bad credentials for u/***"


def test_the_scheduler_step_is_a_no_op_without_an_smtp_host(tmp_path: Path, catalogue: Catalogue) -> None:
    alerts_after_fetch(Settings(db=tmp_path / "nope.db"), catalogue)  # type: ignore[call-arg]
    assert not (tmp_path / "nope.db").exists()


def test_source_owners_are_validated_in_the_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(CATALOGUE.replace('owner: "statistikk@asker.test"', 'owner: "statistikk at asker"')
                    + '  - {name: "Finnes ikke", owner: "a@b.no"}\n', encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    problems = caught.value.problems
    assert any("kilde #1 → owner" in p and "ikke en gyldig e-postadresse" in p for p in problems), problems
    assert any("kilde #2 → name" in p and "ingen indikator har kilden 'Finnes ikke'" in p for p in problems), problems
    owned = load_behaviour_catalogue()
    assert owned.owner_of("Asker kommune") is not None and owned.owner_of("SSB 12143") is None


def test_digests_group_by_primary_recipient_and_say_why(behaviour_catalogue: Catalogue) -> None:
    from monitor.alerts.conditions import describe
    from monitor.alerts.episodes import Notice, digests
    from monitor.catalogue.indicators import SourceOwner

    shared = behaviour_catalogue.model_copy(update={"sources": [
        SourceOwner(name="Asker kommune", owner=OWNER), SourceOwner(name="Medarbeiderundersøkelsen, KS", owner=OWNER),
    ]})
    opened = datetime(2026, 7, 20, tzinfo=OSLO)
    notices = [
        Notice(1, "opened", describe(shared, "late", "sykefravaer"), "", opened),
        Notice(2, "opened", describe(shared, "late", "medarbeiderskap_lederskap"), "", opened),
        Notice(3, "reminder", describe(shared, "off_target", "sykefravaer"), "", opened),
        Notice(4, "opened", describe(shared, "fetch_failing", "ssb:12143"), "", opened),
        Notice(5, "resolved", describe(shared, "late", "netto_driftsresultat"), "", opened),  # SSB: no owner
    ]
    made, nobody = digests(shared, notices, (OPS,))
    assert nobody == []
    by_to = {digest.to: digest for digest in made}
    assert set(by_to) == {(OWNER,), (OPS,)}
    owner = by_to[(OWNER,)]
    assert owner.cc == (OPS,) and [n.episode_id for n in owner.notices] == [2, 1]  # by title
    assert owner.reason == "du er oppført som eier av kildene «Asker kommune» og «Medarbeiderundersøkelsen, KS»"
    ops = by_to[(OPS,)]
    assert ops.cc == () and [n.episode_id for n in ops.notices] == [4, 3, 5]  # opened, reminder, resolved
    assert "driftsansvarlig" in ops.reason
    # Without MONITOR_ALERT_TO, what only ops would get has nobody to go to (and stays unannounced).
    made, nobody = digests(shared, notices, ())
    assert [d.to for d in made] == [(OWNER,)] and [n.episode_id for n in nobody] == [3, 4, 5]
