"""Re-clean seasons from the raw responses kept on the volume, without the network.

The repair path for a damaged cleaned table (or fetch record): the raw responses are the
source of truth, and cleaning them again is what a refresh of a complete season does anyway
(:func:`workers.fetch.season_data.reclean_season`). A damaged raw response cannot be repaired
here: it raises :class:`~common.storage.DamagedFileError` saying to download it again.
"""

from __future__ import annotations

import logging

from common.results import FetchResult
from common.seasons import Season, SeasonType
from common.settings import Settings
from common.storage import DataDir
from workers.fetch.season_data import (
    previous_record,
    reclean_season,
    store_season,
    stored_segment,
)

log = logging.getLogger(__name__)


def rebuild_season(season: Season, data: DataDir, settings: Settings) -> FetchResult:
    """Rewrite ``season``'s cleaned table and fetch record from its kept raw responses."""
    record = previous_record(data, season)
    if record is not None:
        return reclean_season(record, data=data, settings=settings)
    # Without a record there is no hash to check against and no download time; the body's
    # echoed PerMode still says how to read it. Marked incomplete: the next refresh of the
    # season downloads it again rather than trusting an unverified copy for good.
    log.warning("%s: fetch record rewritten from the raw responses (marked incomplete)", season)
    segments = {
        season_type: stored_segment(data, season, season_type, None)
        for season_type in SeasonType
        if data.raw_response(season, season_type).is_file()
    }
    return store_season(
        season, segments, data=data, settings=settings, fetched=False, complete=False
    )
