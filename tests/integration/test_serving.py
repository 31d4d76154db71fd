"""The champion is servable with MLflow's own tools, and answers as the app does.

A real store (sqlite in a temporary data directory), a champion trained on two bundled
seasons, rows of real box-score totals from the recordings (``tests/box_scores.py``). The
expected answers are the champion's assignments as the app and the CLI read them
(``common.champion_results``), never the served model's own code run a second time.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
from mlflow.exceptions import MlflowException

from common.champion import CHAMPION_ALIAS, find_champion
from common.champion_results import load_champion_results
from common.settings import Settings
from common.storage import DataDir
from tests.box_scores import box_score_rows, player_row
from tests.services import PROJECT_ROOT, free_port, seed_seasons
from workers.train.dataset import load_training_data
from workers.train.promotion import republish_champion
from workers.train.serving import INPUT_COLUMNS
from workers.train.tracking import ArchetypeTracker
from workers.train.training import train_archetypes

SEASONS = ["2005-06", "2018-19"]  # 2018-19 has the one playoff recording: folded playoffs
UNSEEN = "2022-23"  # recorded, never stored here
LATER = "2019-20"  # stored after the first champion: the republished one must know it
# Player-seasons of every kind: regular season only, with playoffs, from both eras.
PLAYERS = [
    ("Kobe Bryant", "2005-06"),
    ("Steve Nash", "2005-06"),
    ("Ben Wallace", "2005-06"),
    ("Kawhi Leonard", "2018-19"),  # 24 playoff games
    ("Rudy Gobert", "2018-19"),
    ("James Harden", "2018-19"),
]
MLFLOW = Path(sys.executable).parent / "mlflow"  # the installed console script


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data = tmp_path_factory.mktemp("serving")
    seed_seasons(data, SEASONS)
    settings = Settings(data_dir=data)
    assert train_archetypes(settings).status == "promoted"
    return settings


def _champion_uri(settings: Settings) -> str:
    return f"models:/{settings.registered_model_name}@{CHAMPION_ALIAS}"


def _load(settings: Settings) -> mlflow.pyfunc.PyFuncModel:
    mlflow.set_tracking_uri(settings.tracking_uri)
    return mlflow.pyfunc.load_model(_champion_uri(settings))


def _app_answers(settings: Settings) -> pd.DataFrame:
    """The champion's assignments, read the way the app and the CLI read them."""
    champion = find_champion(settings)
    assert champion is not None
    return load_champion_results(settings, champion).assignments


def _inputs(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[[c for c in INPUT_COLUMNS if c in rows.columns]]


def _assert_same_answers(served: pd.DataFrame, expected: pd.DataFrame) -> None:
    """``served`` (the model's answer, row-aligned with ``expected``) says what the app says."""
    assert served["ARCHETYPE"].tolist() == expected["ARCHETYPE"].tolist()
    assert served["ARCHETYPE_NAME"].tolist() == expected["ARCHETYPE_NAME"].tolist()
    assert served["SEASON"].tolist() == expected["SEASON"].tolist()
    numbers = [c for c in expected.columns if c.startswith(("MEMBERSHIP_", "Z_"))] + ["X", "Y"]
    assert len(numbers) > 12
    np.testing.assert_allclose(
        served[numbers].to_numpy(float), expected[numbers].to_numpy(float), rtol=0, atol=1e-9
    )


def test_the_champion_loads_with_pyfunc_and_answers_as_the_app(store: Settings) -> None:
    model = _load(store)
    signature = model.metadata.get_input_schema()
    assert signature is not None
    assert signature.input_names() == INPUT_COLUMNS
    outputs = model.metadata.signature.outputs.input_names()
    assert {"ARCHETYPE", "ARCHETYPE_NAME", "MEMBERSHIP_0", "Z_AST_PER36"} <= set(outputs)

    app = _app_answers(store).set_index(["PLAYER_NAME", "SEASON"], drop=False)
    rows = pd.concat([box_score_rows(season) for season in SEASONS], ignore_index=True)
    named = pd.concat([player_row(rows[rows["SEASON"] == s], n) for n, s in PLAYERS])
    assert (named["PLAYOFF_MIN"] > 0).sum() >= 2  # Kawhi and Harden played playoffs
    served = model.predict(_inputs(named))
    assert served["ELIGIBLE"].all()
    _assert_same_answers(served, app.loc[PLAYERS].reset_index(drop=True))

    # Every player-season of both seasons: the eligible ones as the app has them, the others
    # answered too but flagged (the app classifies only eligible players).
    _assert_every_eligible_as_the_app(model.predict(_inputs(rows)), rows, _app_answers(store))


def _assert_every_eligible_as_the_app(
    served: pd.DataFrame, rows: pd.DataFrame, app: pd.DataFrame
) -> None:
    served = served.assign(PLAYER_ID=rows["PLAYER_ID"].to_numpy())
    eligible = served[served["ELIGIBLE"]]
    assert len(eligible) == len(app[app["SEASON"].isin(set(rows["SEASON"]))])
    assert (~served["ELIGIBLE"]).sum() > 50
    expected = app.set_index(["PLAYER_ID", "SEASON"]).loc[
        list(zip(eligible["PLAYER_ID"], eligible["SEASON"], strict=True))
    ]
    _assert_same_answers(eligible, expected.reset_index())


def test_a_season_the_model_has_not_seen_is_refused_clearly(store: Settings) -> None:
    rows = _inputs(box_score_rows(UNSEEN).head(3))
    with pytest.raises(MlflowException, match=rf"season\(s\) {UNSEEN}.*refresh the season"):
        _load(store).predict(rows)


@pytest.fixture
def served_champion(store: Settings, tmp_path: Path) -> Iterator[str]:
    """``mlflow models serve`` on the champion (local environment), in its own process group
    so the server and its uvicorn worker end together; yields its URL."""
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [str(MLFLOW), "models", "serve", "-m", _champion_uri(store), "--env-manager", "local",
         "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
        cwd=tmp_path,  # away from the project: the model loads the code logged with it
        env={
            **os.environ,
            "MLFLOW_TRACKING_URI": store.tracking_uri,
            # It starts `uvicorn` by name: the venv's, whichever way the tests were started.
            "PATH": f"{MLFLOW.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # loading imports scikit-learn and skops: seconds
        while not _answers(f"{url}/ping"):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no server: {(tmp_path / 'serve.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):  # a worker that outlived the server
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()
            log.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def _readme_request() -> dict:
    """The request the README shows (its curl's ``-d`` body)."""
    section = (PROJECT_ROOT / "README.md").read_text().split("## Serving the champion")[1]
    body = re.search(r"-d '(.*?)'", section, re.DOTALL)
    assert body is not None
    return json.loads(body[1])


def _post(url: str, body: dict) -> requests.Response:
    return requests.post(
        f"{url}/invocations",
        data=json.dumps(body),  # floats written exactly
        headers={"Content-Type": "application/json"},
        timeout=60,
    )


def test_mlflow_models_serve_answers_a_request(store: Settings, served_champion: str) -> None:
    pairs = [("Kobe Bryant", "2005-06"), ("Kawhi Leonard", "2018-19")]
    inputs = _inputs(pd.concat([player_row(box_score_rows(s), n) for n, s in pairs]))
    # As a user would send it: the split DataFrame as JSON.
    body = {"dataframe_split": {"columns": list(inputs.columns), "data": inputs.values.tolist()}}
    answer = _post(served_champion, body)
    assert answer.status_code == 200, answer.text[:2000]
    served = pd.DataFrame(answer.json()["predictions"])
    app = _app_answers(store).set_index(["PLAYER_NAME", "SEASON"], drop=False)
    _assert_same_answers(served, app.loc[pairs].reset_index(drop=True))
    assert served["ELIGIBLE"].tolist() == [True, True]

    # The README's request (Kobe's recorded 2005-06, JSON integers) gets the same answer.
    readme = _post(served_champion, _readme_request())
    assert readme.status_code == 200, readme.text[:2000]
    _assert_same_answers(pd.DataFrame(readme.json()["predictions"]), served.head(1))

    unseen = _inputs(box_score_rows(UNSEEN).head(1))
    refused = _post(served_champion, {"dataframe_records": unseen.to_dict(orient="records")})
    assert refused.status_code == 400
    assert f"season(s) {UNSEEN}" in refused.json()["message"]


def test_the_champion_republished_on_a_new_season_answers_it(store: Settings) -> None:
    rows = box_score_rows(LATER)
    with pytest.raises(MlflowException, match=LATER):
        _load(store).predict(_inputs(rows.head(1)))
    seed_seasons(store.data_dir, [LATER])  # what a refresh stores, then republishes the champion on
    tracker = ArchetypeTracker(store)
    champion = find_champion(store)
    data = load_training_data(DataDir(store.data_dir))
    assert republish_champion(tracker, data, champion, tracker.champion_profiles(champion))

    served = _load(store).predict(_inputs(rows))
    _assert_every_eligible_as_the_app(served, rows, _app_answers(store))
