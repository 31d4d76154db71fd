"""The task queue (Redis at ``REDIS_URL``) unreachable, or refusing the login: one line, with
the URL's password masked, and what to do. Shared by the app and the CLI.

Apart from :mod:`common.failures` because it imports redis-py (0.2 s): the CLI's answers
(``player``, ``similar``, ``league``, ``team``) never touch the queue and do not pay for it.
"""

from __future__ import annotations

import redis
from kombu.exceptions import OperationalError

from common.failures import clip
from common.secret_check import redacted


def queue_unreachable(url: str, error: BaseException | None = None) -> str:
    """The one line that says the task queue cannot be reached (or refuses the password in
    its URL), and what to do; the URL's password masked."""
    where = clip(redacted(url), 80)
    if error is not None and _login_refused(error):
        return (
            f"the task queue (Redis) at {where} refused the login: put its password in "
            "REDIS_URL (redis://:<password>@host; REDIS_PASSWORD in .env)"
        )
    reason = _reason(error) if error is not None else ""
    return (
        f"the task queue (Redis) is unreachable at {where}"
        + (f" ({reason})" if reason else "")
        + ": start it (scripts/up.sh, or scripts/run_local.sh) or set REDIS_URL"
    )


def queue_problem(url: str, timeout_s: float = 1.0) -> str | None:
    """None when Redis at ``url`` answers a ping; otherwise :func:`queue_unreachable`'s line."""
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s
        )
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError) as error:
        return queue_unreachable(url, error)
    return None


def is_queue_error(error: BaseException) -> bool:
    """Whether ``error`` means the broker or result backend cannot be reached."""
    return isinstance(error, redis.ConnectionError | redis.TimeoutError | OperationalError)


def _login_refused(error: BaseException) -> bool:
    """Redis answered, and refused the login (redis-py's error, or kombu's wrapping of it)."""
    text = str(error)
    return isinstance(error, redis.AuthenticationError) or any(
        said in text
        for said in ("NOAUTH", "WRONGPASS", "invalid username-password", "already authenticated")
    )


def _reason(error: BaseException) -> str:
    text = str(error).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "resolve" in text or "nodename" in text:
        return "cannot resolve the host"
    if "timed out" in text or "timeout" in text:
        return "no answer in time"
    if "auth" in text or "password" in text:
        return "authentication failed"
    return clip(error, 60)
