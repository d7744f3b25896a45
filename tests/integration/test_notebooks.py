"""Every notebook runs top to bottom, as a script, against a small demo publication."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CHARTS = {"gap_explorer": ["gap_explorer"], "cohort_journey": ["cohort_journey"],
          "school_categorisation": ["school_categorisation"], "attendance": ["attendance"]}


@pytest.mark.parametrize("notebook", sorted(CHARTS))
def test_notebook_runs_against_the_publication(notebook, refreshed, tmp_path):
    env = {**os.environ, "PATHWAYS_CHART_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, str(NOTEBOOKS / f"{notebook}.py"), "--publication",
                          str(refreshed.published_dir / "current"), "--learning-community", "LC02"],
                         cwd=NOTEBOOKS, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    for chart in CHARTS[notebook]:
        png = tmp_path / f"{chart}.png"
        assert png.exists() and png.stat().st_size > 5000, chart


def test_notebooks_keep_no_outputs_and_read_only_the_publication():
    for nb in NOTEBOOKS.glob("*.py"):
        text = nb.read_text()
        assert "warehouse" not in text.lower() or nb.name == "pathways_notebook.py", nb.name
        assert "read_only=True" in (NOTEBOOKS / "pathways_notebook.py").read_text()


def test_an_unknown_community_gets_a_plain_sentence_not_a_traceback(refreshed):
    run = subprocess.run([sys.executable, str(NOTEBOOKS / "gap_explorer.py"), "--publication",
                          str(refreshed.published_dir / "current"), "--learning-community", "LC99"],
                         cwd=NOTEBOOKS, capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "There is no learning community LC99" in run.stderr and "LC01, LC02" in run.stderr
    assert "Traceback" not in run.stderr


def test_the_header_names_the_real_publication_and_periods_read_as_academic_years(refreshed):
    sys.path.insert(0, str(NOTEBOOKS))
    from pathways_notebook import open_publication, period

    _, pub = open_publication({"publication": str(refreshed.published_dir / "current")})
    current = os.readlink(refreshed.published_dir / "current")
    assert pub.publication_id == current and current in pub.caption and pub.created_at is not None
    assert set(pub.communities) == {"LC01", "LC02"}
    assert period(202324) == "2023/24" and period(200910) == "2009/10"
