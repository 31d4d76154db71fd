"""``backup``, ``restore``: the single-host data volume, in this process (no broker).

The standard library and ``common/`` only (``common/backup.py``): it runs in every image
that has the CLI (worker-fetch, worker-train, ui)."""

from __future__ import annotations

from pathlib import Path

from cli.output import EXIT_BAD_INPUT, EXIT_FAILED, CommandError, echo
from common.backup import BackupError, BadPathError, backup, restore
from common.settings import get_settings
from common.storage import DataDir


def backup_or_restore(command: str, path: Path) -> int:
    settings = get_settings()
    if settings.data_store != "volume" or settings.tracking_server_url:
        raise CommandError(
            f"{command} covers the single-host profile's data volume; with an MLflow server "
            "(TRACKING_SERVER_URL), back up its PostgreSQL database and artifact volume instead "
            "(docs/operations.md)",
            EXIT_FAILED,
        )
    data = DataDir(settings.data_dir)
    try:
        if command == "backup":
            manifest = backup(data, path, settings.registered_model_name)
        else:
            manifest = restore(path, data)
    except BackupError as error:
        code = EXIT_BAD_INPUT if isinstance(error, BadPathError) else EXIT_FAILED
        raise CommandError(str(error), code) from error
    except OSError as error:  # a full disk under the backup; the partial copy is removed
        raise CommandError(f"{command} failed: {error}", EXIT_FAILED) from error
    version = manifest.champion_version
    summary = (
        f"{f'champion v{version}' if version else 'no champion'}, "
        f"{len(manifest.seasons)} seasons, {manifest.files.get('mlartifacts', 0)} artifact files"
    )
    if command == "backup":
        echo(f"backup written to {path}: {summary}")
    else:
        echo(f"restored the backup of {manifest.created_at} into {data.root}: {summary}")
    return 0
