"""YAML loading that remembers the line of every node, so errors can name file:line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from monitor.core.errors import CatalogueError


class DuplicateKeyError(Exception):
    """A mapping has the same key twice (PyYAML would silently keep the last one)."""

    def __init__(self, key: str, line: int) -> None:
        self.key = key
        self.line = line
        super().__init__(f"duplicate key '{key}' at line {line}")


class LineMap:
    """Maps a location path such as ("indicators", 3, "source", "kind") to a 1-based line number."""

    def __init__(self) -> None:
        self._lines: dict[tuple[Any, ...], int] = {}

    def add(self, path: tuple[Any, ...], line: int) -> None:
        self._lines[path] = line

    def line_for(self, path: tuple[Any, ...]) -> int:
        """The line of the deepest known node on `path` (a missing field points at its parent)."""
        probe = tuple(path)
        while probe:
            if probe in self._lines:
                return self._lines[probe]
            probe = probe[:-1]
        return self._lines.get((), 1)


def load_with_lines(text: str) -> tuple[Any, LineMap]:
    """Parse YAML safely and return (data, LineMap). Raises yaml.YAMLError or DuplicateKeyError."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    lines = LineMap()
    if node is None:
        return None, lines
    _walk(node, (), lines)
    data = yaml.safe_load(text)
    return data, lines


def _walk(node: yaml.Node, path: tuple[Any, ...], lines: LineMap) -> None:
    lines.add(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise DuplicateKeyError(str(key), key_node.start_mark.line + 1)
            seen.add(key)
            lines.add(path + (key,), key_node.start_mark.line + 1)
            _walk(value_node, path + (key,), lines)
            # keep the key's own line for the field itself (the value may start on the next line)
            lines.add(path + (key,), key_node.start_mark.line + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), lines)


def read_mapping(path: Path, noun: str, shape: str) -> tuple[dict[str, Any], LineMap]:
    """Read a YAML file that must be a mapping, or raise CatalogueError naming the file (and line).

    `noun` names the file for people ("katalogen", "KOSTRA-filen"); `shape` says what the mapping holds.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        hint = ""
        if isinstance(exc, FileNotFoundError) and noun == "katalogen":  # run outside the repository (issue 17 §16)
            hint = (f" – kjør monitor i mappen med {path.name}, eller sett MONITOR_CATALOGUE til katalogens sti "
                    "(f.eks. MONITOR_CATALOGUE=/srv/monitor/indicators.yaml)")
        raise CatalogueError([f"{path}: kan ikke lese {noun}: {exc}{hint}"]) from exc
    try:
        data, lines = load_with_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise CatalogueError([f"{where}: ugyldig YAML: {getattr(exc, 'problem', None) or exc}"]) from exc
    except DuplicateKeyError as exc:
        raise CatalogueError([f"{path}:{exc.line}: nøkkelen '{exc.key}' står to ganger"]) from exc
    if not isinstance(data, dict):
        raise CatalogueError([f"{path}:1: {noun} må være en mapping med {shape}"])
    return data, lines


M = TypeVar("M", bound=BaseModel)


def validate_located(
    model: type[M], data: dict[str, Any], describe: Callable[[Any], str], problems: list[str]
) -> M:
    """`data` as `model`, or a CatalogueError listing every validation error (each `describe`d with its file, line
    and field) followed by the `problems` the caller found itself, each once."""
    parsed: M | None = None
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        problems = [describe(error) for error in exc.errors(include_url=False)] + problems
    if problems:
        raise CatalogueError(list(dict.fromkeys(problems)))
    assert parsed is not None
    return parsed
