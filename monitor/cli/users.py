"""`monitor user add|password|list|remove`: the web UI's users. Passwords are read hidden (or from stdin), never echoed."""

from __future__ import annotations

import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import click

from monitor.cli.context import current_settings as _settings
from monitor.core.settings import Settings
from monitor.store.database import Store
from monitor.store.users import ROLE_WORDS, ROLES, Users, check_new_password


def _open_store(settings: Settings) -> Store:
    store = Store(settings.db, create=False)
    store.require_current_schema()
    return store


@click.group()
def user() -> None:
    """Brukere av nettsidene: leser (viewer), redaktør (editor, importerer) og administrator (admin)."""


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True, help="Rollen brukeren får.")
@click.option("--password-stdin", is_flag=True, help="Les passordet fra første linje på standard inn (for skript).")
def add(username: str, role: str, password_stdin: bool) -> None:
    """Opprett en bruker; passordet skrives inn skjult to ganger (eller leses med --password-stdin)."""
    settings = _settings()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Passord", hide_input=True, confirmation_prompt="Gjenta passordet")
    check_new_password(password)
    with _open_store(settings) as store:
        created = Users(store).add(username, password, role, datetime.now(ZoneInfo(settings.timezone)))
    click.echo(f"Brukeren «{created.username}» er opprettet med rollen {created.role} ({created.role_word}).")


@user.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Les passordet fra første linje på standard inn (for skript).")
def password(username: str, password_stdin: bool) -> None:
    """Gi en bruker nytt passord; alle innloggingene brukeren har, slutter å virke med en gang."""
    settings = _settings()
    if password_stdin:
        new_password = sys.stdin.readline().rstrip("\r\n")
    else:
        new_password = click.prompt("Nytt passord", hide_input=True, confirmation_prompt="Gjenta passordet")
    with _open_store(settings) as store:
        Users(store).set_password(username, new_password)
    click.echo(f"Brukeren «{username.strip().lower()}» har fått nytt passord; gamle innlogginger er avsluttet.")


@user.command("list")
def list_users() -> None:
    """Vis brukerne med rolle og når de ble opprettet."""
    with _open_store(_settings()) as store:
        users = Users(store).all()
    if not users:
        click.echo("Ingen brukere ennå; opprett en med: monitor user add BRUKERNAVN --role admin")
        return
    width = max(len(u.username) for u in users)
    for item in users:
        click.echo(f"{item.username:{width}}  {item.role:6}  {ROLE_WORDS[item.role]:13}  opprettet {item.created_at}")


@user.command("remove")
@click.argument("username")
def remove(username: str) -> None:
    """Fjern en bruker; innloggingene deres slutter å virke med en gang."""
    with _open_store(_settings()) as store:
        Users(store).remove(username)
    click.echo(f"Brukeren «{username.strip().lower()}» er fjernet.")


__all__ = ["user"]
