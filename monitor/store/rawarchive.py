"""The raw archive: every response body, gzip-compressed and named by its sha256, so each number traces to its bytes."""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path


def archive(raw_dir: Path, body: bytes, *, source: str, name: str, at: datetime) -> tuple[Path, str]:
    """Save `body` under raw_dir/source/YYYY/MM/DD/name-<sha256>.json.gz; return (path, sha256).

    Written to a temporary file and renamed, so a crash never leaves a half-written archive file.
    """
    digest = hashlib.sha256(body).hexdigest()
    day = at.astimezone(timezone.utc).strftime("%Y/%m/%d")
    folder = raw_dir / source / day
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{digest}.json.gz"
    if not path.exists():
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
                packed.write(body)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return path, digest


def read_archived(path: Path, expected_sha256: str | None = None) -> bytes:
    """Read an archived body back, checking its sha256 when given."""
    body = gzip.decompress(path.read_bytes())
    if expected_sha256 is not None and hashlib.sha256(body).hexdigest() != expected_sha256:
        raise ValueError(f"{path}: sha256 does not match the run log")
    return body
