"""Shared fixtures: a small generated borough (the real files, once per session) and isolated
settings (a temporary data folder and pseudonymisation key) for anything that writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config.settings import Settings
from synthetic import generate, small_borough

TEST_KEY = "pathways-test-key-not-secret"


def make_settings(root: Path, **overrides) -> Settings:
    """Settings for a test, every path under ``root`` and given explicitly (a variable set in the
    shell cannot send a test's writes elsewhere)."""
    values = {"data_dir": root / "data", "warehouse_path": root / "data" / "warehouse.duckdb",
              "dagster_home": root / "dagster_home", "pseudonymisation_key": TEST_KEY,
              "inbox_settle_seconds": 0,  # files copied in by a test are complete; the settle rule has its own tests
              **overrides}
    return Settings(**values)


@pytest.fixture(scope="session")
def small_borough_dir(tmp_path_factory) -> Path:
    """2 learning communities, about 3,000 pupils on roll, 3 academic years: the real file formats."""
    out = tmp_path_factory.mktemp("small_borough")
    generate(small_borough(), out)
    return out


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings pointing at a temporary data folder, handed to whatever runs (never exported)."""
    s = make_settings(tmp_path)
    s.inbox_dir.mkdir(parents=True)
    return s


def copy_into_inbox(files: list[Path], settings: Settings) -> None:
    for f in files:
        shutil.copy(f, settings.inbox_dir / f.name)


@pytest.fixture(scope="session")
def refreshed(small_borough_dir, tmp_path_factory):
    """One real refresh of the small borough for the session (each costs about 20 s): the tests below read its results."""
    from pathways.cli import run_refresh

    settings = make_settings(tmp_path_factory.mktemp("pipeline"))
    settings.inbox_dir.mkdir(parents=True)
    copy_into_inbox(sorted(small_borough_dir.iterdir()), settings)
    assert run_refresh(settings)
    return settings
