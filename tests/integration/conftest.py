"""Whole-pipeline runs: real files through real Dagster, dbt and DuckDB. Slow (seconds to
minutes each); `pytest -m "not slow"` leaves them out while working on one layer."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.slow)
