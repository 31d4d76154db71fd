"""Calls to stats.nba.com's league dashboard through nba_api, made robust.

The site lets requests from cloud IPs hang and throttles bursts, so every call has an
explicit timeout, waits its turn on the shared throttle, and is retried with exponential
backoff and jitter on timeouts, connection errors, 429/5xx and bodies that are not JSON.
Anything else (a 404, a JSON body without the expected table) fails at once: retrying
would not change the answer.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import requests
from nba_api.stats.endpoints.leaguedashplayerstats import LeagueDashPlayerStats
from nba_api.stats.library.http import STATS_HEADERS, NBAStatsHTTP
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from common.seasons import Season, SeasonType
from common.settings import Settings
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


class UpstreamError(RuntimeError):
    """The stats site could not give an answer, even after retries."""


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

    def download(
        self, season: Season, season_type: SeasonType, per_mode: str = PER_MODE
    ) -> Download:
        s = self._settings
        retrying = Retrying(
            stop=stop_after_attempt(s.nba_max_attempts),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            before_sleep=lambda state: log.warning(
                "%s %s: attempt %d failed (%s); retrying",
                season, season_type, state.attempt_number, state.outcome.exception(),
            ),
        )  # fmt: skip
        try:
            for attempt in retrying:
                with attempt:
                    body, url = self._request(season, season_type, per_mode)
                    return Download(body, url, attempt.retry_state.attempt_number)
        except RetryError as error:
            cause = error.last_attempt.exception()
            raise UpstreamError(
                f"stats site failed {s.nba_max_attempts} times for {season} {season_type}: {cause}"
            ) from cause
        except requests.HTTPError as error:
            raise UpstreamError(f"stats site refused {season} {season_type}: {error}") from error
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _request(self, season: Season, season_type: SeasonType, per_mode: str) -> tuple[bytes, str]:
        self._throttle.wait_turn()
        endpoint = LeagueDashPlayerStats(
            season=season.label,
            season_type_all_star=season_type.value,
            per_mode_detailed=per_mode,
            measure_type_detailed_defense="Base",
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
