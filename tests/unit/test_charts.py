"""The app's charts, built from small tables: what their cells say."""

from __future__ import annotations

import pandas as pd

from ui.charts import profile_heatmap


def test_the_heatmap_never_writes_minus_zero() -> None:
    z_scores = pd.DataFrame(
        {"AST/36": [-0.04, 1.26], "BLK/36": [0.04, -1.25]}, index=["Floor general", "Big"]
    )
    chart = profile_heatmap(z_scores).to_dict()
    shown = {
        (row["Archetype"], row["Stat"]): row["shown"] for row in chart["datasets"].popitem()[1]
    }
    assert shown == {
        ("Floor general", "AST/36"): "+0.0",
        ("Floor general", "BLK/36"): "+0.0",
        ("Big", "AST/36"): "+1.3",
        ("Big", "BLK/36"): "-1.2",
    }
    text_layer = chart["layer"][1]["encoding"]["text"]
    assert text_layer == {"field": "shown", "type": "nominal"}
