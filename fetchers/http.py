"""A JSON-over-HTTP client for public statistics APIs: throttled, retrying what may pass, explaining what won't."""

from __future__ import annotations

import json
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

import httpx

from monitor.core.errors import FetchError, SourceUnreachable, TooManyCells

USER_AGENT = "asker-indicator-monitor/0.1 (+https://www.asker.kommune.no)"
DEFAULT_CALLS, DEFAULT_WINDOW, DEFAULT_CELLS = 30, 60.0, 800_000
MAX_RETRY_AFTER = 120.0


@dataclass(frozen=True)
class Limits:
    """The API's call and cell limits (SSB's documented defaults until a source says otherwise)."""

    calls: int = DEFAULT_CALLS
    window: float = DEFAULT_WINDOW
    max_cells: int = DEFAULT_CELLS


class Throttle:
    """A sliding-window limiter kept below the server's limit (a tenth, at least one call, of headroom)."""

    def __init__(self, limits: Limits, *, monotonic: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._monotonic = monotonic
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self.adopt(limits)

    def adopt(self, limits: Limits) -> None:
        """Use new limits from now on; calls already made still count."""
        self.allowed = max(1, limits.calls - max(1, limits.calls // 10))
        self.window = limits.window

    def acquire(self, max_wait: float | None = None) -> None:
        """Wait, if needed, until one more call fits in the window; DeadlineReached when that wait is longer than
        `max_wait` (the time left before the table's or the run's deadline)."""
        while True:
            now = self._monotonic()
            while self._sent and now - self._sent[0] >= self.window:
                self._sent.popleft()
            if len(self._sent) < self.allowed:
                self._sent.append(now)
                return
            wait = self.window - (now - self._sent[0]) + 0.01
            if max_wait is not None and wait > max_wait:
                raise DeadlineReached(wait, max_wait)
            self._sleep(wait)


class DeadlineReached(Exception):
    """A wait (throttle, backoff, Retry-After) would end after the deadline: the request is not made."""

    def __init__(self, wait: float, left: float) -> None:
        self.wait, self.left = wait, max(left, 0.0)
        super().__init__(f"wait {wait:.0f} s, {self.left:.0f} s left")


class JsonApiClient:
    """One client per run and source. Every call goes through the throttle; failures become FetchError.

    `deadline` (a `monotonic()` instant, set by the pipeline per table) bounds everything a call does: no request
    starts after it, each request's timeout ends by it, and a wait that would pass it (the throttle, a backoff,
    the source's Retry-After) fails the call at once instead of sleeping past it.
    """

    label = "kilden"  # the source's name in messages: "SSB ber oss vente 60 s"

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        attempts: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.attempts = attempts
        self.backoff = backoff
        self._sleep = sleep
        self._monotonic = monotonic
        self.deadline: float | None = None
        self.limits = Limits()
        self.throttle = Throttle(self.limits, monotonic=monotonic, sleep=sleep)
        self.requests = 0
        self.http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            transport=transport,
            follow_redirects=True,
        )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_json(self, path: str, *, what: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET a JSON document; anything that is not a JSON object is a FetchError."""
        body = load_json(self.request("GET", path, params=params, what=what).content, what)
        if not isinstance(body, dict):
            raise FetchError(f"{what}: svaret er ikke et JSON-objekt")
        return body

    # -- transport ----------------------------------------------------------------------------------

    def time_left(self) -> float | None:
        """Seconds until the deadline (None: no deadline)."""
        return None if self.deadline is None else self.deadline - self._monotonic()

    def _wait(self, seconds: float, why: str) -> None:
        """Sleep `seconds`, unless that passes the deadline: then the call fails now, saying why."""
        left = self.time_left()
        if left is not None and seconds > left:
            raise FetchError(f"{why} {seconds:.0f} s, men fristen går ut om {max(left, 0):.0f} s")
        self._sleep(seconds)

    def request(self, method: str, path: str, *, what: str, **kwargs: Any) -> httpx.Response:
        """One call with throttling, bounded exponential backoff and the source's error bodies in the message."""
        last: FetchError | None = None
        for attempt in range(1, self.attempts + 1):
            left = self.time_left()
            if left is not None and left <= 0:
                raise FetchError(f"{what}: fristen gikk ut før forespørselen" + (f" ({last})" if last else ""))
            try:
                self.throttle.acquire(left)
            except DeadlineReached as reached:
                raise FetchError(
                    f"{what}: grensen for antall forespørsler hos {self.label} krever {reached.wait:.0f} s venting, "
                    f"men fristen går ut om {reached.left:.0f} s"
                ) from reached
            self.requests += 1
            if left is not None:
                read = min(self.http.timeout.read or left, max(left, 0.1))
                kwargs["timeout"] = httpx.Timeout(read, connect=min(read, 10.0))
            try:
                response = self.http.request(method, path, **kwargs)
                response.read()
            except httpx.ConnectError as exc:
                last = SourceUnreachable(f"{what}: får ikke kontakt med {self.base_url} ({exc})", retryable=True)
                if attempt >= 2:  # a refused or unresolvable host will not come back within this run
                    raise last from exc
            except httpx.TimeoutException as exc:
                timeout = kwargs["timeout"].read if "timeout" in kwargs else self.http.timeout.read
                last = FetchError(f"{what}: tidsavbrudd etter {timeout:g} s ({type(exc).__name__})", retryable=True)
            except httpx.TransportError as exc:
                last = FetchError(f"{what}: forbindelsen brøt ({type(exc).__name__}: {exc})", retryable=True)
            else:
                failure = self._classify(response, what)
                if failure is None:
                    return response
                if not failure.retryable:
                    raise failure
                last = failure
                if response.status_code == 429:
                    self._wait(self._retry_after(response, attempt), f"{what}: {self.label} ber oss vente")
                    continue
            if attempt < self.attempts:
                self._wait(self.backoff * 2 ** (attempt - 1) * (1 + random.random() / 4), f"{last} – neste forsøk om")
        assert last is not None
        raise FetchError(f"{last} – ga opp etter {self.attempts} forsøk", retryable=True)

    def _retry_after(self, response: httpx.Response, attempt: int) -> float:
        header = response.headers.get("Retry-After", "")
        if header.strip().isdigit():
            return min(float(header), MAX_RETRY_AFTER)
        return min(self.limits.window / 2 * attempt, MAX_RETRY_AFTER)

    def _classify(self, response: httpx.Response, what: str) -> FetchError | None:
        """What a response means: None when it is usable, else the error, with the source's own words
        (`_error_detail`) added to a failed request's message."""
        failure = self._classify_status(response, what)
        if failure is None or response.status_code < 400:
            return failure
        try:
            body = json.loads(response.content)
        except ValueError:
            return failure
        extra = self._error_detail(body) if isinstance(body, dict) else ""
        if not extra or extra in str(failure):
            return failure
        return type(failure)(f"{failure}: {extra}", retryable=failure.retryable)

    def _error_detail(self, body: dict[str, Any]) -> str:
        """A source's own words in an error body beyond RFC 7807's title/detail; sources override it."""
        return ""

    def _classify_status(self, response: httpx.Response, what: str) -> FetchError | None:
        status = response.status_code
        if 200 <= status < 300:
            kind = response.headers.get("Content-Type", "")
            head = response.content.lstrip()[:1]
            if "html" in kind or head == b"<":
                return FetchError(f"{what}: fikk HTML i stedet for JSON (HTTP {status}, Content-Type {kind or 'mangler'})")
            if not response.content.strip():
                return FetchError(f"{what}: tomt svar (HTTP {status})")
            return None
        detail = _problem_detail(response)
        if status == 429:
            return FetchError(f"{what}: for mange forespørsler (HTTP 429){detail}", retryable=True)
        if status >= 500:
            return FetchError(f"{what}: serverfeil hos kilden (HTTP {status}){detail}", retryable=True)
        lowered = detail.lower()
        if status == 403 or (status == 400 and ("too many" in lowered or "cell" in lowered)):
            if "cell" in lowered or "too many" in lowered or "values" in lowered:
                return TooManyCells(f"{what}: spørringen er for stor (HTTP {status}){detail}")
        return FetchError(f"{what}: HTTP {status}{detail}")


def load_json(content: bytes, what: str) -> Any:
    """A response body as JSON; a FetchError that says what is wrong otherwise."""
    try:
        return json.loads(content)
    except json.JSONDecodeError as exc:
        raise FetchError(f"{what}: svaret er ikke gyldig JSON ({exc.msg} ved tegn {exc.pos} av {len(content)})") from exc
    except UnicodeDecodeError as exc:
        raise FetchError(f"{what}: svaret er ikke gyldig UTF-8 ({exc.reason})") from exc


def _problem_detail(response: httpx.Response) -> str:
    """The source's own words from an RFC 7807 problem+json (or v0 {"error": …}) body, for the message."""
    try:
        body = json.loads(response.content)
    except ValueError:
        text = response.text.strip().replace("\n", " ")
        return f": {text[:200]}" if text and not text.startswith("<") else ""
    if isinstance(body, dict):
        parts = [str(body[key]) for key in ("title", "detail", "error") if body.get(key)]
        if parts:
            return ": " + " – ".join(dict.fromkeys(parts))
    return ""
