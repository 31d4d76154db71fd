"""The playing-style features: what the archetypes and "who played like him" are computed on.

Defined here, in ``common``, because three services read them: the train worker builds the
style space from them, and the app and the CLI explain similarities with their labels. Why
these features and how they are adjusted for era: ``workers/train/features.py``.

Every feature is a rate per 36 minutes or a ratio of the cleaned table
(``workers/fetch/cleaning.py``), one or two per axis a scout uses. Efficiency (FG%, TS%),
points and minutes describe a player but do not define his style: they are shown, never
clustered on. Shooting skill (:data:`SHOOTING_SKILLS`) joins the style features in "who
played like him" only: a Curry is compared with the great shooters, not with any high-volume
guard, while the archetypes stay those of the style alone (docs/model.md).
"""

from __future__ import annotations

# Column of the cleaned table -> what a fan calls it. Order is the model's input order.
STYLE_FEATURES: dict[str, str] = {
    "FGA_PER36": "shot volume (FGA/36)",  # shot volume: how much of the offence he finishes
    "FG3A_RATE": "3-point share of shots",  # shot mix: perimeter versus inside
    "FTA_RATE": "free throws per shot",  # shot mix: getting to the line (drives, post-ups)
    "AST_PER36": "assists/36",  # playmaking
    "TOV_PER36": "turnovers/36",  # playmaking (ball in his hands)
    "OREB_PER36": "offensive rebounds/36",  # rebounding, inside the paint
    "DREB_PER36": "defensive rebounds/36",  # rebounding, finishing defensive possessions
    "STL_PER36": "steals/36",  # defence, on the perimeter and in passing lanes
    "BLK_PER36": "blocks/36",  # defence, at the rim
    "PF_PER36": "fouls/36",  # defence, physical (and a big man's marker)
}
FEATURES: list[str] = list(STYLE_FEATURES)

# How well he shoots, not how: each percentage of the cleaned table, shrunk toward the
# season's league rate by attempts and era-adjusted (workers/train/features.py). Keyed by the
# percentage column.
SHOOTING_SKILLS: dict[str, str] = {
    "FG3_PCT": "3-point shooting",
    "FT_PCT": "free-throw shooting",
}

# Assignments artifact columns (one row per player-season of the champion).
STYLE_PREFIX = "Z_"  # Z_<feature>: the player's coordinate in the style space
SKILL_PREFIX = "SKILL_"  # SKILL_<percentage>: his era-adjusted shooting skill
MEMBERSHIP_PREFIX = "MEMBERSHIP_"  # MEMBERSHIP_<archetype id>: his share of that archetype


def style_column(feature: str) -> str:
    return f"{STYLE_PREFIX}{feature}"


def skill_column(percentage: str) -> str:
    return f"{SKILL_PREFIX}{percentage}"


def membership_column(archetype_id: int) -> str:
    return f"{MEMBERSHIP_PREFIX}{archetype_id}"


def feature_label(feature_or_column: str) -> str:
    """ "Z_AST_PER36" or "AST_PER36" -> "assists/36"; "SKILL_FT_PCT" -> "free-throw shooting"."""
    if feature_or_column.startswith(SKILL_PREFIX):
        skill = feature_or_column.removeprefix(SKILL_PREFIX)
        return SHOOTING_SKILLS.get(skill, skill)
    feature = feature_or_column.removeprefix(STYLE_PREFIX)
    return STYLE_FEATURES.get(feature, feature)
