"""The console script's start: the cyclic garbage collector held off while a command's modules
load, and back on for the command itself (a training or a `--wait` may run for an hour)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.services import PROJECT_ROOT

# `status` with its work replaced by a probe: is the collector on while the command runs, and
# how many objects were set aside (frozen) by then?
PROBE = """
import gc, json, sys
import cli.status
from cli.main import main

seen = {}
def probe(verbose):
    seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count())
    return 0
cli.status.show_status = probe
code = main(["status"], set_aside_imports=sys.argv[1] == "yes")
print(json.dumps({"code": code, "during": seen, "after": gc.isenabled()}))
"""


def _probe(set_aside: bool) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "yes" if set_aside else "no"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_collector_is_on_while_the_command_runs_and_the_imports_are_set_aside() -> None:
    probed = _probe(set_aside=True)
    assert probed["code"] == 0
    assert probed["during"]["enabled"] is True
    assert probed["after"] is True
    # Celery, redis-py and the rest of `status`' imports: tens of thousands of objects.
    assert probed["during"]["frozen"] > 10_000


def test_a_caller_of_main_keeps_its_collector_as_it_was() -> None:
    """A test process calling main() in-process must not have its objects frozen for good."""
    assert _probe(set_aside=False) == {
        "code": 0,
        "during": {"enabled": True, "frozen": 0},
        "after": True,
    }
