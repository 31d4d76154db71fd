"""Calls to stats.nba.com's league dashboard through nba_api, made robust.

The site lets requests from cloud IPs hang and throttles bursts, so every call has an
explicit timeout, waits its turn on the shared throttle, and is retried with exponential
backoff and jitter on timeouts, connection errors, 429/5xx and bodies that are not JSON.
Anything else (a 404, a JSON body without the expected table) fails at once: retrying
would not change the answer. A failure retrying is unlikely to fix (a name that does not
resolve, a connection refused, a proxy refusing authentication) gets one more attempt only.

Every failed attempt is described in a few words ("cannot resolve stats.nba.com") for the
``on_retry`` callback (the fetch task's progress) and for the final :class:`UpstreamError`,
whose first line is the cause and what to do, the technical details below it.
"""

from __future__ import annotations

import copy
import errno
import json
import logging
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from nba_api.stats.endpoints.leaguedashplayerstats import LeagueDashPlayerStats
from nba_api.stats.library.http import STATS_HEADERS, NBAStatsHTTP
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception,
    wait_exponential_jitter,
)

from common.seasons import Season, SeasonType
from common.settings import Settings
from workers.fetch.response import MEASURE_TYPE
from workers.fetch.throttle import SharedThrottle

log = logging.getLogger(__name__)

# Season totals (nba_api's own default for this endpoint) are exact counts, so percentages
# and per-36 rates come out exact. The site answers Totals for every segment with games; an
# empty Totals answer (a segment without games, or a stand-in such as the replay server that
# only holds PerGame/Per36 recordings) is asked once more as PerGame: one extra call, and only
# in that case (workers/fetch/season_data.py, download_segment).
PER_MODE = "Totals"
FALLBACK_PER_MODE = "PerGame"
RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# Attempts for a failure that retrying is unlikely to fix (one more, for a passing hiccup).
HOPELESS_ATTEMPTS = 2
OFFLINE_HINT = (
    "or run offline with the replay server (scripts/up.sh --offline, or scripts/run_local.sh)"
)

RetryReport = Callable[[str], None]  # one line per failed attempt that will be retried


class UpstreamError(RuntimeError):
    """The stats site could not give an answer, even after retries.

    ``str()`` is one line (the cause and what to do), then the technical details
    (``common.failures.split_error`` parts them)."""


@dataclass(frozen=True)
class Cause:
    """A failed attempt in a few words, whether retrying may help, and what to do."""

    text: str  # "cannot resolve stats.nba.com"
    hopeless: bool  # retrying will not fix it: stop after HOPELESS_ATTEMPTS
    advice: str


class _BadGateway(Exception):
    """A status or body worth retrying: the next attempt may well succeed."""

    def __init__(self, message: str, retry_after_s: float = 0.0):
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Download:
    body: bytes
    url: str
    attempts: int


def _raise_for_status(response: requests.Response, *args: object, **kwargs: object) -> None:
    if response.status_code in RETRYABLE_STATUS:
        retry_after = response.headers.get("Retry-After", "")
        raise _BadGateway(
            f"HTTP {response.status_code} from {response.url.split('?')[0]}",
            retry_after_s=float(retry_after) if retry_after.isdigit() else 0.0,
        )
    response.raise_for_status()


def _retryable(error: BaseException) -> bool:
    return isinstance(error, _BadGateway | requests.Timeout | requests.ConnectionError)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and everything it wraps (urllib3 nests the real cause several levels deep)."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [getattr(current, "reason", None), current.__cause__, current.__context__]
        nested += list(current.args)
        todo += [e for e in nested if isinstance(e, BaseException)]


def _host(url: str) -> str:
    parts = urlsplit(url if "//" in url else f"//{url}")
    return parts.hostname or url[:40]


def _proxy_refused_auth(error: BaseException) -> bool:
    """A 407: as the answer to a plain request, or to the CONNECT of an HTTPS one."""
    if isinstance(error, requests.HTTPError):
        return error.response is not None and error.response.status_code == 407
    return isinstance(error, OSError) and "Tunnel connection failed: 407" in str(error)


def describe_failure(error: BaseException, base_url: str, proxy: str | None) -> Cause:
    """What went wrong with one request, in a few words a person can act on."""
    chain = list(_chain(error))
    site = _host(base_url)
    via = f"the proxy {_host(proxy)}" if proxy else site
    network = f"check the network or NBA_PROXY, {OFFLINE_HINT}"
    if any(_proxy_refused_auth(e) for e in chain):
        return Cause(
            f"{via} refused authentication (HTTP 407)",
            True,
            f"check the user and password in NBA_PROXY (http://user:password@host:port), "
            f"{OFFLINE_HINT}",
        )  # fmt: skip
    for e in chain:
        if isinstance(e, urllib3.exceptions.NameResolutionError | socket.gaierror):
            host = _host(proxy) if proxy else site
            return Cause(f"cannot resolve {host}", True, network)
    for e in chain:
        if isinstance(e, ConnectionRefusedError) or (
            isinstance(e, OSError) and e.errno == errno.ECONNREFUSED
        ):
            target = urlsplit(proxy if proxy else base_url)
            port = f":{target.port}" if target.port else ""
            return Cause(f"{via}{port} refused the connection", True, network)
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return Cause(f"{via} did not accept a connection in time", False, network)
    if isinstance(error, requests.Timeout):
        return Cause(f"{site} did not answer in time", False, network)
    if isinstance(error, requests.exceptions.ProxyError):
        return Cause(f"cannot go through {via}", False, network)
    if isinstance(error, requests.ConnectionError):
        return Cause(f"cannot connect to {via}", False, network)
    if isinstance(error, _BadGateway):
        return Cause(
            str(error), False, f"the site may be overloaded or blocking this address: try again "
            f"later, {OFFLINE_HINT}",
        )  # fmt: skip
    if isinstance(error, requests.HTTPError):
        status = error.response.status_code if error.response is not None else "?"
        return Cause(
            f"HTTP {status} from {site}",
            True,
            "check NBA_STATS_BASE_URL and NBA_HEADERS, " + OFFLINE_HINT,
        )
    return Cause(f"{type(error).__name__}: {str(error)[:120]}", False, network)


class LeagueDashboardClient:
    """Downloads one segment of one season as the site's raw response body."""

    def __init__(self, settings: Settings, throttle: SharedThrottle) -> None:
        self._settings = settings
        self._throttle = throttle
        # nba_api keeps its endpoint URL and session as class attributes of its HTTP class.
        # A subclass of our own carries the retargeted URL (replay server, corporate gateway)
        # and a session whose hook turns bad statuses into errors, leaving nba_api's globals
        # untouched for any other user in the process.
        session = requests.Session()
        session.hooks["response"].append(_raise_for_status)
        self._http = type(
            "RetargetedStatsHTTP",
            (NBAStatsHTTP,),
            {
                "base_url": settings.nba_stats_base_url.rstrip("/") + "/{endpoint}",
                "_session": session,
            },
        )
        # Host is set by requests from the URL; nba_api's fixed "stats.nba.com" would be wrong
        # for any other base URL.
        self._headers = {k: v for k, v in STATS_HEADERS.items() if k != "Host"}
        self._headers.update(settings.nba_headers)
        self._backoff = wait_exponential_jitter(
            multiplier=settings.nba_backoff_initial_s,
            max=settings.nba_backoff_max_s,
            jitter=settings.nba_backoff_jitter_s,
        )
        self._on_retry: RetryReport | None = None

    def reporting_retries(self, on_retry: RetryReport) -> LeagueDashboardClient:
        """This client (same session and throttle) telling ``on_retry`` of every failed
        attempt that will be retried: "attempt 2 of 5 failed: ...; next in 4 s"."""
        other = copy.copy(self)
        other._on_retry = on_retry
        return other

    def _cause(self, error: BaseException) -> Cause:
        return describe_failure(error, self._settings.nba_stats_base_url, self._settings.nba_proxy)

    def _limit(self, cause: Cause) -> int:
        """How many attempts a failure with ``cause`` gets in all."""
        limit = self._settings.nba_max_attempts
        return min(limit, HOPELESS_ATTEMPTS) if cause.hopeless else limit

    def _stop(self, state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        cause = self._cause(error) if error else Cause("unknown error", False, "")
        return state.attempt_number >= self._limit(cause)

    def _before_sleep(self, season: Season, season_type: SeasonType, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        cause = self._cause(error) if error else Cause("unknown error", False, "")
        limit = self._limit(cause)
        wait = state.next_action.sleep if state.next_action else 0.0
        after = f"{wait:.0f} s" if wait >= 1 else f"{wait:.1f} s"
        line = (
            f"{season} {season_type}: attempt {state.attempt_number} of {limit} failed: "
            f"{cause.text}; next in {after}"
        )
        log.warning("%s (%s: %s)", line, type(error).__name__, error)
        if self._on_retry is not None:
            self._on_retry(line)

    def download(
        self, season: Season, season_type: SeasonType, per_mode: str = PER_MODE
    ) -> Download:
        retrying = Retrying(
            stop=self._stop,
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            before_sleep=lambda state: self._before_sleep(season, season_type, state),
        )
        try:
            for attempt in retrying:
                with attempt:
                    body, url = self._request(season, season_type, per_mode)
                    return Download(body, url, attempt.retry_state.attempt_number)
        except RetryError as error:
            last = error.last_attempt
            failure = last.exception()
            assert failure is not None
            raise self._failed(season, season_type, failure, last.attempt_number) from failure
        except requests.RequestException as error:  # not retried: a 404, a bad URL or header
            raise self._failed(season, season_type, error, 1) from error
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _failed(
        self, season: Season, season_type: SeasonType, error: BaseException, attempts: int
    ) -> UpstreamError:
        """One line (cause, then what to do), then the raw error for whoever digs deeper."""
        cause = self._cause(error)
        times = "once" if attempts == 1 else f"{attempts} times"
        s = self._settings
        details = [
            f"upstream: {s.nba_stats_base_url}" + (" (through NBA_PROXY)" if s.nba_proxy else ""),
            # The request's query string is long and says nothing about the failure.
            f"last error: {type(error).__name__}: {re.sub(r'[?][^ ]*', '?…', str(error))}",
        ]
        return UpstreamError(
            f"stats site failed {times} for {season} {season_type}: {cause.text}. "
            f"{cause.advice[0].upper()}{cause.advice[1:]}.\n" + "\n".join(details)
        )

    def _request(self, season: Season, season_type: SeasonType, per_mode: str) -> tuple[bytes, str]:
        self._throttle.wait_turn()
        endpoint = LeagueDashPlayerStats(
            season=season.label,
            season_type_all_star=season_type.value,
            per_mode_detailed=per_mode,
            measure_type_detailed_defense=MEASURE_TYPE,
            proxy=self._settings.nba_proxy or "",
            headers=self._headers,
            timeout=self._settings.nba_request_timeout_s,
            get_request=False,
        )
        response = self._http().send_api_request(
            endpoint=endpoint.endpoint,
            parameters=endpoint.parameters,
            proxy=endpoint.proxy,
            headers=endpoint.headers,
            timeout=endpoint.timeout,
        )
        text = response.get_response()
        try:
            json.loads(text)
        except ValueError as error:
            # An HTML block page or a truncated body: typical of an overloaded edge cache.
            raise _BadGateway(f"body is not JSON ({text[:60]!r}...)") from error
        return text.encode(), response.get_url()

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = error.retry_after_s if isinstance(error, _BadGateway) else 0.0
        return max(self._backoff(state), retry_after)
