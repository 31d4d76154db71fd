"""Does the stats upstream answer? One request, for ``scripts/up.sh`` (standard library only:
it runs on the host, before any image or venv exists).

    python3 scripts/check_upstream.py BASE_URL [PROXY] [SECONDS]

Prints one line, ``ok <what>`` or ``bad <cause>``; exits 0 either way.
"""

from __future__ import annotations

import socket
import sys
import urllib.error
import urllib.parse
import urllib.request

HEADERS = {"User-Agent": "Mozilla/5.0", "Referer": "https://www.nba.com/"}


def verdict(base: str, proxy: str, limit: float) -> str:
    host = urllib.parse.urlsplit(base).hostname or base[:40]
    # Without NBA_PROXY, this host's proxy settings apply (the worker's container has them only
    # through Docker's own proxy configuration, ~/.docker/config.json).
    handler = (
        urllib.request.ProxyHandler({"http": proxy, "https": proxy})
        if proxy
        else urllib.request.ProxyHandler()
    )
    request = urllib.request.Request(base.rstrip("/") + "/leaguedashplayerstats", headers=HEADERS)
    try:
        urllib.request.build_opener(handler).open(request, timeout=limit).close()
    except urllib.error.HTTPError as error:
        if error.code == 407:
            return "bad the proxy refused authentication (HTTP 407): check NBA_PROXY"
        # An error status for a request without parameters is still an answer.
        return f"ok {host} answers (HTTP {error.code} to a bare request)"
    except urllib.error.URLError as error:
        reason = error.reason
        if "407" in str(reason):  # an https upstream: the proxy refused the tunnel
            return "bad the proxy refused authentication (HTTP 407): check NBA_PROXY"
        if isinstance(reason, socket.gaierror):
            name = urllib.parse.urlsplit(proxy).hostname if proxy else host
            return f"bad cannot resolve {name}"
        if isinstance(reason, ConnectionRefusedError):
            return f"bad {'the proxy' if proxy else host} refused the connection"
        if isinstance(reason, TimeoutError):
            return f"bad {host} did not answer in {limit:.0f} s"
        return f"bad {host} is unreachable ({str(reason)[:80]})"
    except TimeoutError:
        return f"bad {host} did not answer in {limit:.0f} s"
    except OSError as error:
        return f"bad {host} is unreachable ({str(error)[:80]})"
    return f"ok {host} answers"


if __name__ == "__main__":
    base_url = sys.argv[1]
    proxy_url = sys.argv[2] if len(sys.argv) > 2 else ""
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
    print(verdict(base_url, proxy_url, seconds))
