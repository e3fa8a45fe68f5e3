"""One store per web request (web.store): opened once on first use, closed when the request ends."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from monitor.core.errors import StoreError
from monitor.core.settings import Settings
from monitor.store.database import Store
from support.paths import FIXTURES
from web import create_app
from web.store import get_store


def make_app(db: Path) -> Flask:
    settings = Settings(db=db, catalogue=FIXTURES / "catalogue" / "small.yaml",  # type: ignore[call-arg]
                        secret_key="store-test", read_open=True)
    return create_app(settings, testing=True)


def test_one_store_per_request_closed_at_its_end(tmp_path: Path) -> None:
    with Store(tmp_path / "monitor.db") as store:
        store.migrate()
    app = make_app(tmp_path / "monitor.db")
    with app.test_request_context("/"):
        first = get_store()
        assert get_store() is first
        assert first.conn.execute("SELECT 1").fetchone() == (1,)
    try:
        first.conn.execute("SELECT 1")
    except Exception as exc:  # sqlite3.ProgrammingError: the connection is closed
        assert "closed" in str(exc)
    else:
        raise AssertionError("the store outlived its request")
    with app.test_request_context("/"):
        assert get_store() is not first


def test_the_store_is_never_created_and_must_be_migrated(tmp_path: Path) -> None:
    app = make_app(tmp_path / "missing.db")
    with app.test_request_context("/"):
        try:
            get_store()
        except StoreError as exc:
            assert "monitor init" in str(exc)
        else:
            raise AssertionError("a missing database was opened")
    assert not (tmp_path / "missing.db").exists()
    Store(tmp_path / "empty.db").close()
    app = make_app(tmp_path / "empty.db")
    with app.test_request_context("/"):
        try:
            get_store()
        except StoreError as exc:
            assert "skjemaversjon 0" in str(exc)
        else:
            raise AssertionError("an unmigrated database was used")
