"""Offline replay of recorded stats.nba.com responses for the real nba_api client."""
