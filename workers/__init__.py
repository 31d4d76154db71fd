"""The fetch and train workers.

``common`` is imported first so its process-wide defaults (MLflow's environment, see
``common/mlflow_env.py``) are set before any worker module imports MLflow.
"""

import common  # noqa: F401
