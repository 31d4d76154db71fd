"""The train worker: archetypes found in the cleaned seasons, tracked in MLflow, promoted.

The ML core, no I/O: ``features`` (the era-adjusted style space) → ``candidates`` (k-means,
6 to 12 archetypes) → ``scoring`` (fit, score, reject, let stability pick the winner) →
``profiles`` (what each archetype looks like, its name) and ``assignments`` (each player's
archetype and memberships). Around it: ``dataset`` reads the seasons, ``training`` runs one
training, ``publishing``/``tracking`` write it to MLflow, ``promotion`` decides the champion,
``new_seasons`` reports on seasons the champion had not seen, ``serving`` is the model
``mlflow models serve`` runs; ``tasks`` is the Celery entry point.
"""
