"""Waiting for an event with a timeout, never sleeping a fixed time and hoping it has happened."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable

POLL = 0.02  # seconds between two looks of wait_until: short, so a wait ends as soon as the event is there


def wait_until(predicate: Callable[[], object], timeout: float) -> bool:
    """True as soon as predicate() is true; False when `timeout` seconds passed first.

    For an event only visible as state (a row in another process's database). Prefer a threading.Event, or
    `ProcessOutput.wait_for`, where the event can signal.
    """
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        pause.wait(POLL)


class ProcessOutput:
    """Reads a subprocess's stdout on a thread, line by line; `wait_for` returns when a line with the text arrives.

    The process must be started with stdout=PIPE and text=True. Use `finish` instead of `communicate`.
    """

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="process-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    @property
    def text(self) -> str:
        with self._changed:
            return "".join(self.lines)

    def wait_for(self, text: str, timeout: float) -> bool:
        """True once a line containing `text` has been printed; False on timeout or when the output ended without it."""
        with self._changed:
            return self._changed.wait_for(lambda: any(text in line for line in self.lines) or self._closed, timeout) and any(
                text in line for line in self.lines
            )

    def finish(self, timeout: float) -> str:
        """Wait for the process to exit and its output to end; all of the output."""
        self.process.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        self.process.stdout.close()  # type: ignore[union-attr]
        return self.text
