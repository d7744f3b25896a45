"""The authority's monthly tracking of young people's post-16 activity (its CCIS), as an extract for
Pathways (docs/methodology.md#post-16-participation-and-neet).

NCCIS has no national file layout for local extracts, so this is Pathways' own format: one row per
young person per month-end snapshot, with the UPN (the link to the school census), the activity
code of DfE's NCCIS management information requirement, its start date, SEND status and the
LAESTAB of the school attended in Year 11 where the authority holds it.
"""

from __future__ import annotations

ALIASES: dict[str, list[str]] = {
    "snapshot_date": ["SnapshotDate", "Snapshot Date", "MonthEnd", "Month End", "Month"],
    "activity_code": ["ActivityCode", "Activity Code", "CurrentActivityCode", "Current_Activity_Code"],
    "activity_start_date": ["ActivityStartDate", "Activity Start Date", "Current_Activity_Start_Date"],
    "send_status": ["SEND", "SENDStatus", "SEND Status"],
    "y11_laestab": ["Y11LAESTAB", "Y11 LAESTAB", "Year 11 LAESTAB", "LAESTABatY11"],
}
REQUIRED = ("upn", "snapshot_date", "activity_code")
OPTIONAL = ("dob", "activity_start_date", "send_status", "y11_laestab", "uln", "surname", "forename", "sex")
