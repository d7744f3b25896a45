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
