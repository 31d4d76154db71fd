"""The app's collections after a run stay short: what the imports loaded is frozen once."""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Iterator

import pytest

from ui import memory


@pytest.fixture
def frozen_then_thawed() -> Iterator[None]:
    yield
    gc.unfreeze()  # this test process collects everything again
    memory._modules_when_frozen[0] = 0


def test_a_run_that_imported_modules_freezes_what_is_alive_and_later_garbage_is_collected(
    frozen_then_thawed: None,
) -> None:
    gc.unfreeze()
    memory.freeze_what_is_loaded()
    frozen = gc.get_freeze_count()
    assert frozen > 1000  # this process's modules, pytest's and the libraries'
    assert len(gc.get_objects()) < frozen  # a full collection walks what is left only

    alive = [[n] for n in range(100)]  # lists: always tracked by the collector
    memory.freeze_what_is_loaded()  # nothing imported since: nothing more frozen
    # At most as many: a frozen object that dies leaves the count (another thread's may).
    assert gc.get_freeze_count() <= frozen
    assert all(gc.is_tracked(d) for d in alive)  # they were there to be frozen

    class Node:
        pass

    cycle = Node()
    cycle.itself = cycle  # type: ignore[attr-defined]
    del cycle
    assert gc.collect() >= 1  # a run's own garbage is still collected

    sys.modules["a_module_a_page_imported"] = types.ModuleType("a_module_a_page_imported")
    try:
        memory.freeze_what_is_loaded()
        assert gc.get_freeze_count() > frozen
    finally:
        del sys.modules["a_module_a_page_imported"]
