"""Every published figure, on two generated boroughs, equals the recomputation tests/oracle.py makes
from the raw files by the definitions in docs/methodology.md: numerators and denominators exactly,
values within 0.05. The session's small borough (a Pathways schools.csv), and one more with another seed
(its own refresh) whose schools arrive as GIAS publishes them: establishment extract, links file and a
membership file."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from synthetic import generate, small_borough
from tests.conftest import make_settings
from tests.oracle import compare

SECOND_SEED = 29  # any seed other than the session borough's (7)


def _assert_matches(folder, publication):
    result = compare(folder, publication)
    assert result.checked > 20_000, result.checked  # every table was read and compared, not an empty publication
    assert not result.problems, f"{len(result.problems)} mismatches, e.g.\n" + "\n".join(result.problems[:25])


def test_every_published_figure_follows_the_methodology(refreshed, small_borough_dir):
    _assert_matches(small_borough_dir, refreshed.current_publication)


@pytest.fixture(scope="module")
def second_borough(tmp_path_factory):
    from pathways.cli import run_refresh

    folder = tmp_path_factory.mktemp("second_borough")
    generate(replace(small_borough(seed=SECOND_SEED), reference_format="gias"), folder)
    settings = make_settings(tmp_path_factory.mktemp("second_pipeline"))
    settings.inbox_dir.mkdir(parents=True)
    for f in sorted(folder.iterdir()):
        shutil.copy(f, settings.inbox_dir / f.name)
    assert run_refresh(settings)
    return folder, settings


def test_a_borough_with_another_seed_follows_the_methodology_too(second_borough):
    folder, settings = second_borough
    _assert_matches(folder, settings.current_publication)
