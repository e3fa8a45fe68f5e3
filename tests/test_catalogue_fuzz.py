"""Bad catalogue input always gives a clear, located error and never a traceback (property-based)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.paths import FIXTURES
from monitor.catalogue.indicators import load_catalogue
from monitor.core.errors import CatalogueError

SMALL = (FIXTURES / "catalogue" / "small.yaml").read_text(encoding="utf-8")
LINES = SMALL.splitlines(keepends=True)
FRAGMENTS = ["", "  ", "- ", ": ", "[", "]", "{", "}", "&a ", "*a ", "!!python/object:os.system ", "\t", "'", '"',
             "id: x\n", "unit: share\n", "scale: [5, 1]\n", "target: {kind: bands}\n", "- id: 7\n", "\x00", "æøå", "~\n"]


def check(tmp_path: Path, text: str) -> None:
    path = tmp_path / "indicators.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_catalogue(path)
    except CatalogueError as exc:
        assert exc.problems, "an error must say what is wrong"
        for problem in exc.problems:
            assert problem.startswith(str(path)), problem  # every problem names the file (and a line)
            assert "Traceback" not in problem


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(LINES)), st.sampled_from(["insert", "delete", "replace"]),
                          st.sampled_from(FRAGMENTS)), min_size=1, max_size=6))
def test_mutated_catalogue_never_raises_anything_but_catalogue_error(tmp_path: Path, edits: list[tuple[int, str, str]]) -> None:
    lines = list(LINES)
    for position, action, fragment in edits:
        position = min(position, len(lines))
        if action == "insert":
            lines.insert(position, fragment)
        elif action == "delete" and lines:
            del lines[min(position, len(lines) - 1)]
        elif lines:
            index = min(position, len(lines) - 1)
            lines[index] = fragment + lines[index][len(fragment):]
    check(tmp_path, "".join(lines))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_arbitrary_text_is_refused_cleanly(tmp_path: Path, text: str) -> None:
    check(tmp_path, text)
