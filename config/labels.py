"""Labels that appear in published figures and are matched on by code: written once, here.

SQL gets them as the dbt var ``pathways:labels`` (orchestration/dbt_args.py); Python reads them
from here. The names follow the EES open-data standard's filter labels.
"""

TOTAL = "Total"
DISADVANTAGED = "Disadvantaged"
NOT_DISADVANTAGED = "Not known to be disadvantaged"
DISADVANTAGE_BREAKDOWN = "Disadvantage"
LEARNING_COMMUNITY = "Learning community"
LOCAL_AUTHORITY = "Local authority"
SCHOOL = "School"

LABELS = {
    "total": TOTAL,
    "disadvantaged": DISADVANTAGED,
    "not_disadvantaged": NOT_DISADVANTAGED,
    "disadvantage_breakdown": DISADVANTAGE_BREAKDOWN,
    "learning_community": LEARNING_COMMUNITY,
    "local_authority": LOCAL_AUTHORITY,
    "school": SCHOOL,
}
