"""Custom Great Expectations expectations for what GE has no rule for.

ExpectColumnValuesToBeValidUpn
    What: the UPN's check letter matches its other 12 characters (GovTalk UPN standard v2.0).
    When it matters: every upload; a wrong UPN splits one pupil into two and breaks the
    link between census, attainment and pupil premium (DfE census error 1510).
    How to fix: correct the UPN in the MIS from the pupil's record or previous school's CTF.

ExpectColumnValuesToBeValidUln
    What: a ULN, where present, is 10 digits with a valid check digit (HESA specification).
    How to fix: correct the ULN from the Learning Records Service.
"""

from __future__ import annotations

from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial

from ingest.identifiers import valid_ulns, valid_upns


def _checked(column, check):
    """A pandas column through one of the vectorised polars checks in ``ingest.identifiers``."""
    import pandas as pd
    import polars as pl

    return pd.Series(check(pl.from_pandas(column.astype(str))).to_numpy(), index=column.index)


class ColumnValuesValidUpn(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_upn"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return _checked(column, valid_upns)


class ExpectColumnValuesToBeValidUpn(ColumnMapExpectation):
    """Expect each UPN to have a correct check letter (GovTalk UPN standard v2.0)."""

    map_metric = "column_values.valid_upn"
    success_keys = ("mostly",)


class ColumnValuesValidUln(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_uln"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return _checked(column, valid_ulns)


class ExpectColumnValuesToBeValidUln(ColumnMapExpectation):
    """Expect each ULN to have a correct check digit (10 digits, weights 10..1, sum mod 11 = 10)."""

    map_metric = "column_values.valid_uln"
    success_keys = ("mostly",)
