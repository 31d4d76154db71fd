"""The Streamlit app: seasons, archetypes, players compared across eras, refreshes.

It reads results only through MLflow (``common.champion``) and the shared data directory, and
publishes refreshes by task name (``common.pipeline``): no worker code, no training library.
"""
