"""MLflow's entry point for the served model ("models from code", no pickle): MLflow runs this
file when it loads a published version. The model itself: ``workers/train/serving.py``."""

from mlflow.models import set_model

from workers.train.serving import ArchetypeModel

set_model(ArchetypeModel())
