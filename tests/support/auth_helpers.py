"""Helpers for the web security tests: an app on a temp database with users, CSRF tokens, logging in."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from .paths import FIXTURES, OSLO
from monitor.core.settings import Settings
from monitor.store.database import Store
from monitor.store.users import Users
from web import create_app

SECRET_KEY = "hemmelig-signeringsnokkel-7f3a9c1e5b2d4f60"
PASSWORDS = {"lise": "lese-passord-1234", "erik": "redaktor-passord-5678", "anne": "admin-passord-9012"}
ROLES = {"lise": "viewer", "erik": "editor", "anne": "admin"}
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=OSLO)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
DUMMY_ARGUMENTS = {"source": "ssb", "indicator_id": "sykefravaer", "fmt": "csv", "filename": "x.css", "year": 2025,
                   "slug": "oppvekst"}


def make_app(tmp_path: Path, **overrides: Any) -> Flask:
    """An app on a fresh, migrated database with the import catalogue and three users, clock fixed at NOW."""
    db = tmp_path / "monitor.db"
    if not db.exists():
        with Store(db) as store:
            store.migrate()
            users = Users(store)
            for name, password in PASSWORDS.items():
                users.add(name, password, ROLES[name], NOW)
    values: dict[str, Any] = {
        "db": db, "catalogue": FIXTURES / "catalogue" / "imports.yaml", "raw_dir": tmp_path / "raw",
        "secret_key": SECRET_KEY, "read_open": True,
    }
    values.update(overrides)
    app = create_app(Settings(**values), testing=True)
    app.config["MONITOR_NOW"] = NOW
    return app


def csrf_token(client: FlaskClient, path: str = "/logg-inn") -> str:
    """The CSRF token of the form on `path` (tied to the client's session)."""
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found is not None, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def login(client: FlaskClient, name: str, password: str | None = None) -> Any:
    """Log in through the form; returns the response."""
    token = csrf_token(client)
    return client.post("/logg-inn", data={
        "brukernavn": name, "passord": PASSWORDS[name] if password is None else password, "csrf_token": token,
    })


def logged_in(app: Flask, name: str) -> FlaskClient:
    """A client logged in as `name`."""
    client = app.test_client()
    response = login(client, name)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def write_rules(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every route method that writes, with dummy values for its arguments."""
    found = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - SAFE_METHODS):
            values = {name: DUMMY_ARGUMENTS.get(name, "x") for name in rule.arguments}
            found.append((rule.endpoint, method, adapter.build(rule.endpoint, values, method=method)))
    return found


def read_rules(app: Flask) -> list[tuple[str, str]]:
    """(endpoint, url) for every GET route, with dummy values for its arguments."""
    found = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or set()):
            values = {name: DUMMY_ARGUMENTS.get(name, "x") for name in rule.arguments}
            found.append((rule.endpoint, adapter.build(rule.endpoint, values, method="GET")))
    return found
