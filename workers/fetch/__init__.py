"""The fetch worker: stats.nba.com league dashboard → raw responses → cleaned Parquet."""
