"""The PNG scatter of every player in the 2-D embedding, coloured by archetype.

Drawn with Pillow rather than matplotlib: one scatter with a legend needs nothing more, and
matplotlib with its font tooling would add ~50 MB to the train image (measured) for it.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1100, 760
PLOT = (70, 60, 780, 700)  # left, top, right, bottom of the plotting area
LEGEND_X = 800


def archetype_scatter(assignments: pd.DataFrame, profiles: list[dict], title: str) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font, title_font = ImageFont.load_default(size=14), ImageFont.load_default(size=18)
    left, top, right, bottom = PLOT

    x, y = assignments["X"].to_numpy(float), assignments["Y"].to_numpy(float)
    pad = 8  # keep points off the frame
    px = left + pad + (x - x.min()) / max(np.ptp(x), 1e-9) * (right - left - 2 * pad)
    py = bottom - pad - (y - y.min()) / max(np.ptp(y), 1e-9) * (bottom - top - 2 * pad)

    draw.text((left, 20), title, fill="black", font=title_font)
    draw.rectangle(PLOT, outline="#999999")
    draw.text(((left + right) // 2 - 40, bottom + 15), "component 1", fill="#555555", font=font)
    draw.text((15, (top + bottom) // 2), "comp. 2", fill="#555555", font=font)

    colors = {p["name"]: p["color"] for p in profiles}
    for i, name in enumerate(sorted(colors)):
        color = colors[name]
        members = (assignments["ARCHETYPE_NAME"] == name).to_numpy()
        for cx, cy in zip(px[members], py[members], strict=True):
            draw.ellipse((cx - 2, cy - 2, cx + 2, cy + 2), fill=color)
        legend_y = top + 10 + 26 * i
        draw.rectangle((LEGEND_X, legend_y, LEGEND_X + 14, legend_y + 14), fill=color)
        draw.text(
            (LEGEND_X + 22, legend_y - 1), f"{name} ({members.sum()})", fill="black", font=font
        )

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
