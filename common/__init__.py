"""What every service shares: settings, the Celery app and task names, seasons, the data
directory, publishing, reading the champion.

Importing the package sets MLflow's environment defaults (:mod:`common.mlflow_env`), before
any module of the project can import MLflow.
"""

from common.mlflow_env import apply_mlflow_defaults

apply_mlflow_defaults()
