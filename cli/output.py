"""What the CLI prints: results on stdout, errors on stderr, and its exit codes."""

from __future__ import annotations

import sys
from typing import TextIO

from common.failures import split_error

EXIT_FAILED = 1  # a task failed, or there is no champion to answer from
EXIT_BAD_INPUT = 2  # unknown player or season, malformed arguments (argparse uses 2 too)
EXIT_INTERRUPTED = 3  # the worker running the task stopped and no worker ran it again in time


NO_CHAMPION = (
    "No champion model yet: run `nba-archetypes seed --inline` (imports the bundled seasons "
    "and trains here) or refresh seasons, then ask again."
)


class CommandError(Exception):
    """A one-line message for the user and the exit code it ends the command with."""

    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


def echo(text: str = "") -> None:
    """A result for the user, on stdout (above any progress bar on the terminal)."""
    _write(text, sys.stdout)


def warn(text: str) -> None:
    """A diagnostic for the user (an error, a note while waiting), on stderr."""
    _write(text, sys.stderr)


def _write(text: str, stream: TextIO) -> None:
    # Only the commands that draw a bar import tqdm (`refresh` and `status` answer in half a
    # second, and tqdm's import is a tenth of that); its write() keeps text above the bars.
    bars = sys.modules.get("tqdm")
    if bars is None:
        stream.write(f"{text}\n")
    else:
        bars.tqdm.write(text, file=stream)
    stream.flush()


def failure_lines(prefix: str, error: object, verbose: bool) -> list[str]:
    """The failure's headline after ``prefix``; with ``verbose``, its details indented below."""
    headline, details = split_error(str(error))
    lines = [f"{prefix}{headline}"]
    if details and verbose:
        lines += [f"    {line}" for line in details.splitlines()]
    elif details:
        lines[0] += " (--verbose: details)"
    return lines
