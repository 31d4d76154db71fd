"""The app's collections after a run stay short: what the imports loaded is frozen once."""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Iterator

import pytest

from ui import memory


@pytest.fixture
def thawed() -> Iterator[None]:
    """No freeze before the test (an app run in this process may have made one), none after:
    this test process collects everything again."""
    gc.unfreeze()
    memory._modules_when_frozen[0] = 0
    yield
    gc.unfreeze()
    memory._modules_when_frozen[0] = 0


def _walked(objects: list[object]) -> list[bool]:
    """Whether a full collection still walks each object: frozen ones it skips."""
    walked = {id(o) for o in gc.get_objects()}
    return [id(o) in walked for o in objects]


def test_a_run_that_imported_modules_freezes_what_is_alive_and_later_garbage_is_collected(
    thawed: None,
) -> None:
    memory.freeze_what_is_loaded()
    frozen = gc.get_freeze_count()
    assert frozen > 1000  # this process's modules, pytest's and the libraries'
    assert len(gc.get_objects()) < frozen  # a full collection walks what is left only

    alive: list[object] = [[n] for n in range(100)]  # lists: tracked by the collector
    memory.freeze_what_is_loaded()  # nothing imported since: nothing more frozen
    assert _walked(alive) == [True] * len(alive)

    class Node:
        pass

    cycle = Node()
    cycle.itself = cycle  # type: ignore[attr-defined]
    del cycle
    assert gc.collect() >= 1  # a run's own garbage is still collected

    sys.modules["a_module_a_page_imported"] = types.ModuleType("a_module_a_page_imported")
    try:
        memory.freeze_what_is_loaded()  # a run that imported a module: what is alive is frozen
        assert _walked(alive) == [False] * len(alive)
    finally:
        del sys.modules["a_module_a_page_imported"]
