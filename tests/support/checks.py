"""Checksums that prove a database, or its numbers, did not change."""

from __future__ import annotations

import hashlib
from pathlib import Path

from monitor.store.database import Store


def file_digest(path: Path) -> str:
    """sha256 of a database file and its WAL, to prove a database is byte-for-byte unchanged."""
    digest = hashlib.sha256(path.read_bytes())
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        digest.update(wal.read_bytes())
    return digest.hexdigest()


def observations_checksum(store: Store) -> str:
    """sha256 over every stored vintage, to prove a failed run changed no number."""
    rows = store.conn.execute("SELECT * FROM observations ORDER BY id").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()
