"""One store per request (the `g` pattern of Flask's tutorial): opened on first use, closed when the request ends."""

from __future__ import annotations

from typing import cast

from flask import Flask, g

from monitor.store.database import Store
from web import clock


def get_store() -> Store:
    """The request's store: the database at MONITOR_DB, which must exist (never created) and be at the current schema."""
    if "store" not in g:
        store = Store(clock.settings().db, create=False)
        try:
            store.require_current_schema()
        except BaseException:
            store.close()
            raise
        g.store = store
    return cast(Store, g.store)


def close_store(exc: BaseException | None = None) -> None:
    """Close the request's store, if it opened one."""
    store = g.pop("store", None)
    if store is not None:
        store.close()


def init_app(app: Flask) -> None:
    """Close each request's store when its app context ends."""
    app.teardown_appcontext(close_store)
