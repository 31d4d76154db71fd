"""Replay server: serves recorded stats.nba.com ``leaguedashplayerstats`` responses over HTTP.

The real ``nba_api`` client is pointed at it (``NBAStatsHTTP.base_url``) so the whole fetch
path runs offline against real bytes. Faults (timeouts, 429, 500, broken bodies, block pages)
are injected over HTTP so tests in another process can drive them; ``wrong-season-type``
answers with the other segment's recording (or empty result), echoing its SeasonType.

Stdlib only: it runs in a tiny container image without the project's dependencies.

Routes:
    GET    /stats/leaguedashplayerstats?...   recorded response (or an empty result set)
    GET    /_replay/health                    {"status": "ok", "recordings": N}
    GET    /_replay/faults                    pending faults
    POST   /_replay/faults                    {"faults": ["429", ...], "season": "2018-19"?}
    DELETE /_replay/faults                    clear pending faults
    GET    /_replay/requests                  log of stats requests received
    DELETE /_replay/requests                  clear that log
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

logger = logging.getLogger("replay")

ENDPOINT = "leaguedashplayerstats"
RESULT_SET_NAME = "LeagueDashPlayerStats"
DEFAULT_RECORDINGS_DIR = Path(__file__).resolve().parent / "recordings"
# The empty-answer schema comes from this recording: it carries the current 67-column headers.
SCHEMA_RECORDING = f"{ENDPOINT}_2022-23_regular_pergame.json"
FAULT_KINDS = ("delay", "429", "500", "malformed-json", "html", "empty", "wrong-season-type")
JSON_TYPE = "application/json; charset=utf-8"
# What stats.nba.com answers on a server-side error (nba_api looks for exactly this text).
ERROR_BODY = b'{"Message":"An error has occurred."}'
HTML_BLOCK_PAGE = (
    b"<HTML><HEAD>\n<TITLE>Access Denied</TITLE>\n</HEAD><BODY>\n<H1>Access Denied</H1>\n"
    b'You don\'t have permission to access "http://stats.nba.com/stats/leaguedashplayerstats"'
    b" on this server.<P>\nReference&#32;&#35;18&#46;replay\n</BODY>\n</HTML>\n"
)
# Bound the request log so a long-running container cannot grow without limit.
MAX_LOGGED_REQUESTS = 100_000

_FILENAME_RE = re.compile(
    rf"^{ENDPOINT}_(?P<season>\d{{4}}-\d{{2}})_(?P<type>regular|playoffs)_(?P<permode>[a-z0-9]+)\.json$"
)
_SEASON_TYPES = {"regular season": "regular", "playoffs": "playoffs"}
_OTHER_SEASON_TYPE = {"regular season": "Playoffs", "playoffs": "Regular Season"}

RecordingKey = tuple[str, str, str]  # (season, "regular"|"playoffs", lower-cased PerMode)


def index_recordings(directory: Path) -> dict[RecordingKey, Path]:
    """Map (season, type, permode) to a recording file, from file names alone."""
    index: dict[RecordingKey, Path] = {}
    for path in sorted(directory.glob(f"{ENDPOINT}_*.json")):
        match = _FILENAME_RE.match(path.name)
        if match is None:
            logger.warning("ignoring recording with an unexpected name: %s", path.name)
            continue
        index[(match["season"], match["type"], match["permode"])] = path
    return index


def recording_key(params: dict[str, str]) -> RecordingKey | None:
    """The recording a query asks for; None when the SeasonType has no recordings at all."""
    season_type = _SEASON_TYPES.get(params.get("SeasonType", "").strip().lower())
    if season_type is None:
        return None
    return (params.get("Season", "").strip(), season_type, params.get("PerMode", "").lower())


def other_season_type(season_type: str) -> str:
    """The segment a ``wrong-season-type`` fault answers with instead of ``season_type``."""
    return _OTHER_SEASON_TYPE.get(season_type.strip().lower(), "Regular Season")


def _schema_headers(directory: Path, index: dict[RecordingKey, Path]) -> list[str]:
    """Headers for empty answers: the current schema, or the newest recording's as a fallback."""
    path = directory / SCHEMA_RECORDING
    if not path.is_file():
        if not index:
            raise FileNotFoundError(f"no {ENDPOINT} recordings in {directory}")
        path = index[max(index)]
        logger.warning("%s missing; empty answers use headers of %s", SCHEMA_RECORDING, path.name)
    data = json.loads(path.read_bytes())
    return list(data["resultSets"][0]["headers"])


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when an Accept-Encoding header allows gzip (honours ``q=0`` refusals)."""
    for part in (accept_encoding or "").split(","):
        coding, _, rest = part.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        q = rest.strip()
        if q.startswith("q="):
            with contextlib.suppress(ValueError):
                return float(q[2:]) > 0
        return True
    return False


@dataclass(frozen=True)
class Fault:
    kind: str
    season: str | None = None

    def matches(self, params: dict[str, str]) -> bool:
        return self.season is None or params.get("Season") == self.season

    def as_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "season": self.season}


class ReplayState:
    """Recordings index plus the mutable fault queue and request log, shared by handler threads."""

    def __init__(self, recordings_dir: Path, fault_delay_s: float) -> None:
        self.recordings_dir = recordings_dir
        self.fault_delay_s = fault_delay_s
        self.index = index_recordings(recordings_dir)
        self.empty_headers = _schema_headers(recordings_dir, self.index)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._requests: deque[dict[str, Any]] = deque(maxlen=MAX_LOGGED_REQUESTS)
        # Bodies are read and gzipped on first use, then kept: the files are small (~4 MB total).
        self._bodies: dict[tuple[Path, bool], bytes] = {}

    def body(self, path: Path, compressed: bool) -> bytes:
        key = (path, compressed)
        with self._lock:
            cached = self._bodies.get(key)
        if cached is None:
            raw = path.read_bytes()
            cached = gzip.compress(raw, mtime=0) if compressed else raw
            with self._lock:
                self._bodies[key] = cached
        return cached

    def add_faults(self, kinds: list[str], season: str | None) -> None:
        with self._lock:
            self._faults.extend(Fault(kind, season) for kind in kinds)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending_faults(self) -> list[dict[str, str | None]]:
        with self._lock:
            return [fault.as_dict() for fault in self._faults]

    def take_fault(self, params: dict[str, str]) -> Fault | None:
        """Pop the first queued fault that applies to this request (FIFO)."""
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.matches(params):
                    return self._faults.pop(i)
        return None

    def log_request(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append(entry)

    def logged_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()


def empty_result(params: dict[str, str], headers: list[str]) -> bytes:
    """What the real site answers for a segment without games: 200 with no rows."""
    body = {
        "resource": ENDPOINT,
        "parameters": params,
        "resultSets": [{"name": RESULT_SET_NAME, "headers": headers, "rowSet": []}],
    }
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


class ReplayHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive as requests.Session expects; every reply sets Content-Length.
    protocol_version = "HTTP/1.1"
    server_version = "replay"
    server: ReplayServer

    @property
    def state(self) -> ReplayState:
        return self.server.state

    # --- plumbing ---------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = JSON_TYPE,
        extra_headers: dict[str, str] | None = None,
        *,
        compressed: bool = False,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if compressed:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (extra_headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # Expected after a delay fault: the client already gave up on its timeout.
            logger.info("client went away before the %s response was written", status)
            self.close_connection = True

    def _send_json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"))

    def _send_encoded(self, status: int, raw: bytes, content_type: str = JSON_TYPE) -> None:
        if accepts_gzip(self.headers.get("Accept-Encoding")):
            self._send(status, gzip.compress(raw, mtime=0), content_type, compressed=True)
        else:
            self._send(status, raw, content_type)

    def _read_json_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        return json.loads(raw)

    # --- verbs ------------------------------------------------------------------------------
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path.startswith("/stats/"):
            self._handle_stats(url.path, url.query)
        elif url.path == "/_replay/health":
            self._send_json(200, {"status": "ok", "recordings": len(self.state.index)})
        elif url.path == "/_replay/faults":
            self._send_json(200, {"pending": self.state.pending_faults()})
        elif url.path == "/_replay/requests":
            self._send_json(200, self.state.logged_requests())
        else:
            self._not_found(url.path)

    do_HEAD = do_GET

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path != "/_replay/faults":
            self._not_found(path)
            return
        try:
            body = self._read_json_body()
            kinds = body["faults"]
            season = body.get("season")
            if not isinstance(kinds, list) or not all(k in FAULT_KINDS for k in kinds):
                raise ValueError(f"faults must be a list of {', '.join(FAULT_KINDS)}")
            if season is not None and not isinstance(season, str):
                raise ValueError("season must be a string like '2018-19'")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self._send_json(400, {"error": f"bad fault request: {exc}"})
            return
        self.state.add_faults(kinds, season)
        logger.info("queued faults %s (season=%s)", kinds, season)
        self._send_json(200, {"pending": self.state.pending_faults()})

    def do_DELETE(self) -> None:
        path = urlsplit(self.path).path
        if path == "/_replay/faults":
            self.state.clear_faults()
            self._send_json(200, {"pending": []})
        elif path == "/_replay/requests":
            self.state.clear_requests()
            self._send_json(200, [])
        else:
            self._not_found(path)

    def _not_found(self, path: str) -> None:
        self._send_json(404, {"error": "not found", "path": path})

    # --- the replayed endpoint --------------------------------------------------------------
    def _handle_stats(self, path: str, query: str) -> None:
        # Last value wins for repeated keys; blanks are kept because nba_api sends many "" params.
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        endpoint = path.removeprefix("/stats/").strip("/").lower()
        entry: dict[str, Any] = {
            "time": time.time(),
            "path": path,
            "params": params,
            "headers": dict(self.headers.items()),
            "fault": None,
            "status": 404,
        }
        if endpoint != ENDPOINT:
            self.state.log_request(entry)
            self._not_found(path)
            return

        fault = self.state.take_fault(params)
        entry["fault"] = fault.kind if fault else None
        entry["status"] = {"429": 429, "500": 500}.get(fault.kind, 200) if fault else 200
        # Logged before any delay so a client that timed out still sees its attempt counted.
        self.state.log_request(entry)
        key = recording_key(params)
        recording = self.state.index.get(key) if key else None
        logger.info(
            "%s %s/%s/%s -> %s%s",
            ENDPOINT,
            params.get("Season"),
            params.get("SeasonType"),
            params.get("PerMode"),
            recording.name if recording else "empty result set",
            f" [fault {fault.kind}]" if fault else "",
        )

        if fault is None or fault.kind == "delay":
            if fault is not None:
                time.sleep(self.state.fault_delay_s)  # only this connection's thread waits
            self._serve_recording(recording, params)
        elif fault.kind == "429":
            self._send(
                429,
                b'{"message":"Too Many Requests"}',
                extra_headers={"Retry-After": "1"},
            )
        elif fault.kind == "500":
            self._send(500, ERROR_BODY)
        elif fault.kind == "malformed-json":
            raw = (
                recording.read_bytes()
                if recording
                else empty_result(params, self.state.empty_headers)
            )
            self._send_encoded(200, raw[: len(raw) // 2])
        elif fault.kind == "html":
            self._send_encoded(200, HTML_BLOCK_PAGE, "text/html")
        elif fault.kind == "wrong-season-type":
            # A mixed-up cache or gateway: a real body, but for the other segment.
            other = params | {"SeasonType": other_season_type(params.get("SeasonType", ""))}
            other_key = recording_key(other)
            self._serve_recording(self.state.index.get(other_key) if other_key else None, other)
        else:  # "empty"
            self._send_encoded(200, empty_result(params, self.state.empty_headers))

    def _serve_recording(self, recording: Path | None, params: dict[str, str]) -> None:
        if recording is None:
            self._send_encoded(200, empty_result(params, self.state.empty_headers))
            return
        compressed = accepts_gzip(self.headers.get("Accept-Encoding"))
        self._send(200, self.state.body(recording, compressed), compressed=compressed)


class ReplayServer(ThreadingHTTPServer):
    # Daemon threads: a sleeping delay fault must not hold up shutdown.
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: ReplayState) -> None:
        self.state = state
        super().__init__(address, ReplayHandler)


def make_server(
    recordings_dir: Path, host: str, port: int, *, fault_delay_s: float = 5.0
) -> ReplayServer:
    """Build (bind) a server; the caller runs ``serve_forever``."""
    return ReplayServer((host, port), ReplayState(recordings_dir, fault_delay_s))


def _write_atomically(path: Path, text: str) -> None:
    # Write then rename, so a reader polling for the file never sees it half-written.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def serve(
    recordings_dir: Path,
    host: str,
    port: int,
    *,
    port_file: Path | None = None,
    fault_delay_s: float = 5.0,
) -> None:
    """Run until SIGTERM/SIGINT. With ``port_file``, the bound port number is written to it."""
    server = make_server(recordings_dir, host, port, fault_delay_s=fault_delay_s)
    bound_host, bound_port = server.server_address[:2]
    logger.info(
        "replay server listening on http://%s:%s (%d recordings from %s)",
        bound_host,
        bound_port,
        len(server.state.index),
        recordings_dir,
    )
    if port_file is not None:
        _write_atomically(port_file, f"{bound_port}\n")

    def _stop(signum: int, _frame: object) -> None:
        logger.info("received %s, shutting down", signal.Signals(signum).name)
        # shutdown() waits for serve_forever to return, so it cannot run on the main thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        logger.info("replay server stopped")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m replay", description="Replay recorded stats.nba.com responses."
    )
    parser.add_argument(
        "--recordings",
        type=Path,
        default=Path(os.environ.get("REPLAY_RECORDINGS_DIR", DEFAULT_RECORDINGS_DIR)),
        help="directory of recordings (env REPLAY_RECORDINGS_DIR)",
    )
    parser.add_argument("--host", default=os.environ.get("REPLAY_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("REPLAY_PORT", "8765")),
        help="0 picks a free port (env REPLAY_PORT)",
    )
    parser.add_argument("--port-file", type=Path, help="write the bound port number here")
    parser.add_argument("--fault-delay-s", type=float, default=5.0, help="sleep of 'delay'")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    serve(
        args.recordings,
        args.host,
        args.port,
        port_file=args.port_file,
        fault_delay_s=args.fault_delay_s,
    )


# --- harness and client helpers (used by tests and scripts in other processes) -------------


@contextlib.contextmanager
def run_replay_server(
    recordings: Path, *, fault_delay_s: float = 5.0, startup_timeout_s: float = 15.0
) -> Iterator[str]:
    """Run the server in a subprocess on a free port; yield its base URL ``http://127.0.0.1:P``."""
    with tempfile.TemporaryDirectory(prefix="replay-") as tmp:
        port_file = Path(tmp) / "port"
        # stderr goes to a file, not a pipe: nobody drains a pipe, and a full one blocks the server.
        log_path = Path(tmp) / "server.log"
        env = dict(os.environ)
        # Make ``-m replay`` importable even when the project is not installed in this venv.
        project_root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [project_root, env.get("PYTHONPATH")]))
        cmd = [
            sys.executable,
            "-m",
            "replay",
            "--recordings",
            str(recordings),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--fault-delay-s",
            str(fault_delay_s),
        ]
        with log_path.open("wb") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            base_url = _wait_until_healthy(proc, port_file, log_path, startup_timeout_s)
            yield base_url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_until_healthy(
    proc: subprocess.Popen[bytes], port_file: Path, log_path: Path, timeout_s: float
) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"replay server exited with code {proc.returncode} during start-up:\n"
                f"{log_path.read_text(errors='replace')}"
            )
        if port_file.is_file():
            base_url = f"http://127.0.0.1:{int(port_file.read_text())}"
            with contextlib.suppress(OSError):
                if _call("GET", f"{base_url}/_replay/health", timeout=1).get("status") == "ok":
                    return base_url
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise TimeoutError(
        f"replay server not healthy after {timeout_s}s:\n{log_path.read_text(errors='replace')}"
    )


def _call(method: str, url: str, payload: Any = None, timeout: float = 5.0) -> Any:
    data = None if payload is None else json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def inject_faults(
    base_url: str, faults: list[str], season: str | None = None
) -> list[dict[str, str | None]]:
    """Queue faults (optionally only for one season); returns all pending faults."""
    payload: dict[str, Any] = {"faults": list(faults)}
    if season is not None:
        payload["season"] = season
    return _call("POST", f"{base_url}/_replay/faults", payload)["pending"]


def pending_faults(base_url: str) -> list[dict[str, str | None]]:
    return _call("GET", f"{base_url}/_replay/faults")["pending"]


def clear_faults(base_url: str) -> None:
    _call("DELETE", f"{base_url}/_replay/faults")


def received_requests(base_url: str) -> list[dict[str, Any]]:
    """Every stats request the server saw: time, path, params, fault (or None), status."""
    return _call("GET", f"{base_url}/_replay/requests")


def clear_requests(base_url: str) -> None:
    _call("DELETE", f"{base_url}/_replay/requests")
