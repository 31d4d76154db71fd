"""Short garbage collections after every script run.

Streamlit runs a full collection after each script run (``runner.postScriptGC``, kept on:
session 18 in docs/measured.md). A full collection walks every object the process tracks,
and most of them are the libraries the pages import (pandas, Altair, MLflow's client): 0.1 s
and more on every click, before the browser is told the run ended. Once a run has imported
new modules, what is alive is moved out of all later collections (``gc.freeze``), after one
collection so that no garbage is frozen with it. A run's own garbage is collected as before.
"""

from __future__ import annotations

import gc
import sys

_modules_when_frozen = [0]  # len(sys.modules) at the last freeze


def freeze_what_is_loaded() -> None:
    """Freeze the live objects if this run imported modules since the last freeze."""
    loaded = len(sys.modules)
    if loaded == _modules_when_frozen[0]:
        return
    gc.collect()
    gc.freeze()
    _modules_when_frozen[0] = loaded
