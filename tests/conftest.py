"""Shared fixtures: a small generated borough (the real files, once per session) and isolated
settings (a temporary data folder and pseudonymisation key) for anything that writes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ingest.settings import Settings
from ingest.synthetic import generate, small_borough

TEST_KEY = "pathways-test-key-not-secret"


@pytest.fixture(autouse=True)
def _environment_restored():
    """A refresh exports its settings to os.environ for dbt (orchestration.environment); put the
    environment back after each test so one test's warehouse path never reaches the next."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def small_borough_dir(tmp_path_factory) -> Path:
    """2 learning communities, about 3,000 pupils on roll, 3 academic years: the real file formats."""
    out = tmp_path_factory.mktemp("small_borough")
    generate(small_borough(), out)
    return out


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    """Settings pointing at a temporary data folder; exported so Dagster assets and dbt see them too."""
    monkeypatch.setenv("PATHWAYS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PATHWAYS_PSEUDONYMISATION_KEY", TEST_KEY)
    monkeypatch.delenv("PATHWAYS_WAREHOUSE_PATH", raising=False)
    s = Settings()
    s.inbox_dir.mkdir(parents=True)
    return s


def copy_into_inbox(files: list[Path], settings: Settings) -> None:
    for f in files:
        shutil.copy(f, settings.inbox_dir / f.name)


@pytest.fixture(scope="session")
def refreshed(small_borough_dir, tmp_path_factory):
    """One real refresh of the small borough for the session (each costs about 20 s): the tests below read its results."""
    tmp = tmp_path_factory.mktemp("pipeline")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(tmp / "dagster_home"))
        mp.setenv("PATHWAYS_DATA_DIR", str(tmp / "data"))
        mp.setenv("PATHWAYS_PSEUDONYMISATION_KEY", TEST_KEY)
        mp.delenv("PATHWAYS_WAREHOUSE_PATH", raising=False)
        from ingest.settings import Settings
        from orchestration.cli import run_refresh

        settings = Settings()
        settings.inbox_dir.mkdir(parents=True)
        copy_into_inbox(sorted(small_borough_dir.iterdir()), settings)
        assert run_refresh(settings)
        yield settings
