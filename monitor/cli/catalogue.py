"""`monitor catalogue …`: pages generated from the indicator catalogue (docs/indicators.md)."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.catalogue.listing import COMMAND, DOCS_PATH, indicators_doc
from monitor.cli.context import current_settings as _settings
from monitor.sources.registry import INDICATOR_SOURCES


def render(catalogue: Path) -> str:
    """docs/indicators.md for this catalogue file, with the source registry's labels."""
    return indicators_doc(catalogue, {key: source.label for key, source in INDICATOR_SOURCES.items()})


@click.group()
def catalogue() -> None:
    """Sider som lages fra katalogen (indicators.yaml)."""


@catalogue.command("docs")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path(DOCS_PATH), show_default=True,
              help="Filen listen skrives til.")
@click.option("--check", is_flag=True, help="Skriv ingenting; avslutt med kode 1 hvis filen ikke stemmer med katalogen.")
def docs(out: Path, check: bool) -> None:
    """Skriv listen over hvilke indikatorer som hentes og hvilke som importeres, og hvorfor (docs/indicators.md)."""
    path = _settings().catalogue
    text = render(path)
    if check:
        current = out.read_text(encoding="utf-8") if out.is_file() else None
        if current != text:
            click.echo(f"{out} stemmer ikke med {path}; kjør `{COMMAND}` for å lage den på nytt.", err=True)
            click.get_current_context().exit(1)
        click.echo(f"{out} stemmer med {path}.")
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"{out}: skrevet fra {path} ({text.count(chr(10))} linjer).")
