"""Ofsted's monthly management information on state-funded school inspections, as published.

GOV.UK, "Monthly management information: Ofsted's school inspections outcomes"
(docs/methodology.md#ofsted-inspections). One row per school (URN), all of England; Pathways
keeps the authority's schools (LAESTAB's LA code). Two layouts are read, told apart by their
headers, never by position:

* the EIF layout (to November 2025): grades 1-4 (9 = not applicable) for overall effectiveness
  (not given from September 2024) and the key judgements, "Safeguarding is effective?" Yes/No,
  and "Category of concern" (SM special measures, SWK serious weaknesses);
* the report-card layout (renewed framework, from 10 November 2025): a text grade per evaluation
  area (Exceptional, Strong standard, Expected standard, Needs attention, Urgent improvement), each
  with its own "<area> - date of grade"; "Safeguarding standards" Met/Not met; no overall grade;
  beside them the school's latest graded EIF inspection ("Latest OEIF ...").

A file row becomes one canonical row per judgement of each inspection it describes (the latest
full inspection and, in the report-card layout, the latest graded EIF inspection when that is
another one), with the framework, so report-card grades are never turned into 1-4.
"""

from __future__ import annotations

# canonical judgement -> (framework, header as Ofsted writes it)
EIF_JUDGEMENTS: dict[str, str] = {
    "overall_effectiveness": "Overall effectiveness",
    "quality_of_education": "Quality of education",
    "behaviour_and_attitudes": "Behaviour and attitudes",
    "personal_development": "Personal development",
    "leadership_and_management": "Effectiveness of leadership and management",
    "safeguarding_effective": "Safeguarding is effective?",
    "early_years_provision": "Early years provision (where applicable)",
    "sixth_form_provision": "Sixth form provision (where applicable)",
}
REPORT_CARD_AREAS: dict[str, str] = {
    "safeguarding_standards": "Safeguarding standards",
    "inclusion": "Inclusion",
    "curriculum_and_teaching": "Curriculum and teaching",
    "achievement": "Achievement",
    "attendance_and_behaviour": "Attendance and behaviour",
    "personal_development_and_wellbeing": "Personal development and wellbeing",
    "early_years": "Early years (where applicable)",
    "post_16_provision": "Post-16 provision (where applicable)",
    "leadership_and_governance": "Leadership and governance",
}
# the latest graded EIF inspection, kept beside a report card (note Ofsted's double space)
LATEST_EIF: dict[str, list[str]] = {
    "overall_effectiveness": ["Latest OEIF overall effectiveness"],
    "quality_of_education": ["Latest OEIF quality of education"],
    "behaviour_and_attitudes": ["Latest OEIF behaviour and attitudes"],
    "personal_development": ["Latest OEIF personal development"],
    "leadership_and_management": ["Latest OEIF effectiveness of leadership and management"],
    "safeguarding_effective": ["Latest OEIF  safeguarding is effective?", "Latest OEIF safeguarding is effective?"],
    "early_years_provision": ["Latest OEIF early years provision (where applicable)"],
    "sixth_form_provision": ["Latest OEIF sixth form provision (where applicable)"],
}
EIF, REPORT_CARD = "EIF", "Report card"

# canonical column -> header spellings (merged into ingest.sources.ALIASES)
ALIASES: dict[str, list[str]] = {
    "inspection_number": ["Inspection number of latest full inspection", "Inspection number"],
    "inspection_type": ["Inspection type"],
    "inspection_start_date": ["Inspection start date", "Inspection start date of latest full inspection"],
    "inspection_end_date": ["Inspection end date"],
    "publication_date": ["Publication date", "Publication date of latest full inspection"],
    "category_of_concern": ["Category of concern"],
    "eif_publication_date": ["Publication date of latest OEIF graded inspection"],
    "eif_category_of_concern": ["Latest OEIF category of concern"],
    **{f"eif_{j}": [h] for j, h in EIF_JUDGEMENTS.items()},
    **{f"rc_{a}": [h] for a, h in REPORT_CARD_AREAS.items()},
    **{f"rc_{a}_date": [f"{h} - date of grade"] for a, h in REPORT_CARD_AREAS.items()},
    **{f"latest_eif_{j}": hs for j, hs in LATEST_EIF.items()},
}
REQUIRED = ("urn", "inspection_number", "inspection_start_date", "publication_date")
OPTIONAL = tuple(c for c in ALIASES if c not in REQUIRED) + ("laestab", "school_name")

# every column of the two layouts as Ofsted publishes them (a real file has them; Pathways loads the
# ones above and does not warn about the rest, which are Ofsted's own)
SCHOOL_COLUMNS = (
    "Web link (opens in new window)", "URN", "LAESTAB", "School name", "Ofsted phase", "Type of education",
    "School open date", "Admissions policy", "Sixth form", "Designated religious character", "Religious ethos",
    "Faith grouping", "Ofsted region", "Region", "Local authority", "Parliamentary constituency", "Postcode",
    "The income deprivation affecting children index (IDACI) quintile", "Total number of pupils",
    "Statutory lowest age", "Statutory highest age",
)
INSPECTION_COLUMNS = (
    "Inspection number of latest full inspection", "Inspection type", "Inspection type grouping",
    "Event type grouping", "Inspection start date", "Inspection end date", "Publication date",
    "Does the latest full inspection relate to the URN of the current school?",
    "URN at time of latest full inspection", "LAESTAB at time of latest full inspection",
    "School name at time of latest full inspection", "School type at time of latest full inspection",
)
EIF_LAYOUT = SCHOOL_COLUMNS + INSPECTION_COLUMNS + (
    "Overall effectiveness", "Category of concern", *[h for j, h in EIF_JUDGEMENTS.items() if j != "overall_effectiveness"],
    "Previous inspection number", "Previous inspection start date", "Previous inspection end date",
    "Previous publication date", "Previous overall effectiveness", "Previous category of concern",
)
REPORT_CARD_LAYOUT = SCHOOL_COLUMNS + INSPECTION_COLUMNS + (
    "Category of concern",
    *[c for a, h in REPORT_CARD_AREAS.items() for c in (h, f"{h} - date of grade")],
    "Latest OEIF overall effectiveness", "Latest OEIF quality of education", "Latest OEIF behaviour and attitudes",
    "Latest OEIF personal development", "Latest OEIF effectiveness of leadership and management",
    "Latest OEIF  safeguarding is effective?", "Latest OEIF early years provision (where applicable)",
    "Latest OEIF sixth form provision (where applicable)", "Publication date of latest OEIF graded inspection",
    "Latest OEIF category of concern", "Ungraded inspection overall outcome", "Ungraded inspection publication date",
    "Most recent category of concern",
)


def published_columns() -> set[str]:
    from ingest.sources import normalise_header

    return {normalise_header(h) for h in EIF_LAYOUT + REPORT_CARD_LAYOUT}
