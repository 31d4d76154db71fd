"""The PNG scatter of every player in the 2-D embedding, coloured by archetype."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display in a worker

import matplotlib.pyplot as plt
import pandas as pd


def archetype_scatter(assignments: pd.DataFrame, title: str) -> bytes:
    figure, axes = plt.subplots(figsize=(9, 6.5), dpi=110)
    for name, group in assignments.groupby("ARCHETYPE_NAME", sort=True):
        axes.scatter(group["X"], group["Y"], s=6, alpha=0.6, label=f"{name} ({len(group)})")
    axes.set_title(title)
    axes.set_xlabel("component 1")
    axes.set_ylabel("component 2")
    axes.legend(loc="best", fontsize=8, markerscale=2, frameon=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
