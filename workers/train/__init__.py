"""The train worker's pure ML core: features, candidate models, scoring and selection, profiles.

``features`` → ``candidates`` (the grid of pipelines) → ``scoring`` (fit, score, reject, pick the
winner) → ``profiles`` (what each archetype looks like, with a readable name). No I/O here:
loading tables and MLflow logging live in the task modules that call this core.
"""
