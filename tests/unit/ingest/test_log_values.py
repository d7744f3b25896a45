"""Run logs and Dagster metadata show where a problem is, never a value that identifies a pupil."""

from ingest.identifiers import message_for_log, value_for_log


def test_identifying_values_are_withheld_whatever_the_header_is_called():
    for header in ("UPN", "Pupil UPN", "ULN", "Surname", "Legal Forename", "DOB", "Date of Birth"):
        assert value_for_log(header, "A372200114028") != "A372200114028", header
    assert value_for_log("LAESTAB", "3729999") == "3729999"
    assert value_for_log("UPN", None) is None


def test_a_message_quoting_the_value_loses_it():
    assert message_for_log("DOB", "31/02/2015", "'31/02/2015' is not a valid date") == "'(withheld)' is not a valid date"
    assert message_for_log("EntryDate", "31/02/2024", "'31/02/2024' is not a valid date") == "'31/02/2024' is not a valid date"
