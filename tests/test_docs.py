"""The documentation keeps up with the code: every CLI command is mentioned, every setting is documented."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click

from support.paths import REPO
from monitor.cli.main import cli
from monitor.core.settings import Settings

DOCS = REPO / "docs"


def command_paths(command: click.Command, path: tuple[str, ...] = ("monitor",)) -> Iterator[tuple[str, ...]]:
    """Every command and group under the CLI, as its full path ("monitor", "kostra", "fetch")."""
    yield path
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from command_paths(sub, path + (name,))


def docs_text() -> str:
    """README.md and every page under docs/, joined."""
    files = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def mentioned(words: tuple[str, ...], text: str) -> bool:
    """True when the words occur as a whole command (any whitespace between them, also a line break)."""
    pattern = r"(?<![\w/-])" + r"\s+".join(re.escape(word) for word in words) + r"(?![\w-])"
    return re.search(pattern, text) is not None


def test_the_docs_exist() -> None:
    for name in ("operations", "sources", "catalogue", "web-and-api", "exports", "alerts", "kostra", "development",
                 "glossary"):
        assert (DOCS / f"{name}.md").is_file(), f"docs/{name}.md is missing"
    lines = len((REPO / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= 150, f"README.md has {lines} lines (at most 150; move the details to docs/)"


def test_every_cli_command_is_mentioned_in_the_docs() -> None:
    text = docs_text()
    paths = list(command_paths(cli))
    assert len(paths) > 20, "the walk of the click group found too few commands"
    missing = [" ".join(path) for path in paths if not mentioned(path, text)]
    assert not missing, (
        "these CLI commands are not mentioned (as the full command, e.g. `monitor kostra fetch`) in README.md or "
        "docs/*.md:\n  " + "\n  ".join(missing)
    )


def test_every_setting_is_documented_in_operations() -> None:
    text = (DOCS / "operations.md").read_text(encoding="utf-8")
    variables = [f"MONITOR_{name.upper()}" for name in Settings.model_fields]
    assert variables, "Settings has no fields?"
    missing = [v for v in variables if re.search(rf"(?<![A-Z0-9_]){re.escape(v)}(?![A-Z0-9_])", text) is None]
    assert not missing, "these settings are not documented in docs/operations.md:\n  " + "\n  ".join(missing)


def test_the_docs_name_files_that_exist() -> None:
    """A path in backticks that looks like one of ours (monitor/…, fetchers/…, web/…, tests/…, docs/…) exists."""
    text = docs_text()
    paths = set(re.findall(r"`((?:monitor|fetchers|web|tests|docs|bench)/[\w./-]+\.(?:py|md|csv|html|css))`", text))
    missing = sorted(p for p in paths if not Path(REPO / p).exists())
    assert not missing, "the docs name files that do not exist:\n  " + "\n  ".join(missing)
