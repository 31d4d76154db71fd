"""The Streamlit app: seasons, archetypes, players compared across eras, refreshes.

It reads results through the model registry (``common.champion``) and the seasons' store, and
queues refreshes by task name (``common.queueing``): no worker code, no training library.
"""
