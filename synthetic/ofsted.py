"""Ofsted's monthly management information on state-funded school inspections, for the synthetic borough.

Two files, in Ofsted's own column layouts (ingest/ofsted.py; docs/methodology.md#ofsted-inspections):

* an EIF-layout workbook "as at" 31 August after the first year (sheet "Most recent inspections", a
  title row above the header, grades 1-4 and 9 = not applicable), as the older files were;
* a report-card-layout CSV (Windows-1252) "as at" 31 March two years after the last year, where
  schools inspected from 10 November 2025 have report cards and the rest their latest EIF grades in
  the "Latest OEIF" columns.

Each URN is inspected every three to five years; grades follow the school's effect in the outcomes
(a weaker school is graded lower), so categorisation sees inspections that agree with its data
more often than not. A few schools of a neighbouring authority are in each file, as all of England is
in Ofsted's. Deterministic for the borough's seed (its own random stream, so the other files do not
change).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from ingest.ofsted import EIF_LAYOUT, REPORT_CARD_AREAS, REPORT_CARD_LAYOUT

NO_OVERALL_FROM = date(2024, 9, 1)      # overall effectiveness no longer given
REPORT_CARDS_FROM = date(2025, 11, 10)  # the renewed framework
CARD_GRADES = ["Exceptional", "Strong standard", "Expected standard", "Needs attention", "Urgent improvement"]
PHASES = {"Primary": "Primary", "Infant": "Primary", "Junior": "Primary", "Nursery": "Nursery", "Secondary": "Secondary",
          "Special": "Special", "Pupil referral unit": "PRU"}


def _eif_grade(z: float) -> int:
    return 1 if z > 1.3 else 2 if z > -0.7 else 3 if z > -1.7 else 4


def _card_grade(z: float) -> str:
    return CARD_GRADES[0 if z > 1.7 else 1 if z > 0.7 else 2 if z > -0.9 else 3 if z > -1.9 else 4]


def inspections(spec, borough, as_at: date, rng: np.random.Generator) -> list[dict]:
    """Every inspection of every URN up to ``as_at``, oldest first per URN."""
    effects = dict(zip(borough.establishments["laestab"].to_list(), borough.establishments["school_effect"].to_list()))
    out = []
    number = 10_100_000 + spec.la_code * 1000
    for s in borough.schools.sort("urn").iter_rows(named=True):
        opened = s["open_date"]
        closed = s["close_date"] or as_at
        start = max(opened + timedelta(days=int(rng.integers(200, 900))), date(spec.first_year - 5, 9, 15))
        day = start
        while day <= min(closed, as_at):
            if day.weekday() >= 5:
                day += timedelta(days=7 - day.weekday())
            z = effects[s["laestab"]] / 0.18 * 0.8 + rng.normal(0, 0.8)
            number += int(rng.integers(1, 50))
            published = day + timedelta(days=int(rng.integers(20, 45)))
            if published <= as_at and published <= closed:
                row = {"urn": s["urn"], "laestab": s["laestab"], "school_name": s["school_name"], "phase": s["phase"],
                       "number": number, "start": day, "end": day + timedelta(days=1), "published": published}
                if day >= REPORT_CARDS_FROM:
                    grades = {a: _card_grade(z + rng.normal(0, 0.5)) for a in REPORT_CARD_AREAS if a != "safeguarding_standards"}
                    if s["phase"] not in ("Nursery", "Infant", "Primary"):
                        grades.pop("early_years")
                    if s["phase"] != "Secondary":
                        grades.pop("post_16_provision")
                    grades["safeguarding_standards"] = "Not met" if rng.random() < 0.02 else "Met"
                    lg = grades["leadership_and_governance"]
                    others = [g for a, g in grades.items() if a not in ("leadership_and_governance", "safeguarding_standards")]
                    # NEU's summary of the renewed framework (docs/methodology.md#ofsted-inspections)
                    if lg == "Urgent improvement" and ("Urgent improvement" in others or grades["safeguarding_standards"] == "Not met"):
                        concern = "SM"
                    elif lg == "Urgent improvement" or "Urgent improvement" in others or grades["safeguarding_standards"] == "Not met":
                        concern = "RSI"
                    else:
                        concern = None
                    row.update(framework="Report card", grades=grades, concern=concern)
                else:
                    overall = _eif_grade(z)
                    keys = {k: min(4, max(1, overall + int(rng.choice([-1, 0, 0, 0, 1])))) for k in
                            ("quality_of_education", "behaviour_and_attitudes", "personal_development",
                             "leadership_and_management")}
                    row.update(framework="EIF", overall=overall if day < NO_OVERALL_FROM else None, keys=keys,
                               safeguarding="No" if overall == 4 and rng.random() < 0.5 else "Yes",
                               early_years=overall if s["phase"] in ("Nursery", "Infant", "Primary") else 9,
                               sixth_form=overall if s["phase"] == "Secondary" else 9,
                               concern=("SM" if rng.random() < 0.5 else "SWK") if overall == 4 else None)
                out.append(row)
            gap = 3 if z < -0.7 else 5 if z > 1.3 else 4
            nxt = day + timedelta(days=int(365 * gap + rng.integers(-60, 60)))
            window = (as_at - timedelta(days=60) - REPORT_CARDS_FROM).days
            if nxt > as_at and day < REPORT_CARDS_FROM and window > 0 and rng.random() < 0.5:
                # half the schools due soon after the file's date are brought forward into the renewed
                # framework's first months, so every borough has report cards to show
                nxt = REPORT_CARDS_FROM + timedelta(days=int(rng.integers(0, window)))
            day = nxt
    return out


def _d(v: date | None) -> str:
    return v.strftime("%d/%m/%Y") if v else ""


def _school_cells(r: dict, spec) -> dict:
    return {"Web link (opens in new window)": f"http://www.ofsted.gov.uk/inspection-reports/find-inspection-report/provider/ELS/{r['urn']}",
            "URN": str(r["urn"]), "LAESTAB": str(r["laestab"]), "School name": r["school_name"],
            "Ofsted phase": PHASES.get(r["phase"], r["phase"]), "Local authority": r.get("la_name", spec.la_name),
            "Region": "Yorkshire and the Humber", "Ofsted region": "North East, Yorkshire and the Humber",
            "Inspection number of latest full inspection": str(r["number"]), "Inspection type": "Section 5",
            "Inspection type grouping": "Section 5", "Event type grouping": "Full inspection",
            "Inspection start date": _d(r["start"]), "Inspection end date": _d(r["end"]),
            "Publication date": _d(r["published"]),
            "Does the latest full inspection relate to the URN of the current school?": "Yes",
            "URN at time of latest full inspection": str(r["urn"]), "LAESTAB at time of latest full inspection": str(r["laestab"]),
            "School name at time of latest full inspection": r["school_name"]}


def _eif_cells(r: dict, prefix: str = "", concern_header: str = "Category of concern") -> dict:
    k = r["keys"]
    return {f"{prefix}Overall effectiveness" if not prefix else f"{prefix}overall effectiveness":
            "" if r["overall"] is None else str(r["overall"]),
            concern_header: r["concern"] or "",
            **({"Quality of education": str(k["quality_of_education"]), "Behaviour and attitudes": str(k["behaviour_and_attitudes"]),
                "Personal development": str(k["personal_development"]),
                "Effectiveness of leadership and management": str(k["leadership_and_management"]),
                "Safeguarding is effective?": r["safeguarding"],
                "Early years provision (where applicable)": str(r["early_years"]),
                "Sixth form provision (where applicable)": str(r["sixth_form"])} if not prefix else
               {"Latest OEIF quality of education": str(k["quality_of_education"]),
                "Latest OEIF behaviour and attitudes": str(k["behaviour_and_attitudes"]),
                "Latest OEIF personal development": str(k["personal_development"]),
                "Latest OEIF effectiveness of leadership and management": str(k["leadership_and_management"]),
                "Latest OEIF  safeguarding is effective?": r["safeguarding"],
                "Latest OEIF early years provision (where applicable)": str(r["early_years"]),
                "Latest OEIF sixth form provision (where applicable)": str(r["sixth_form"]),
                "Publication date of latest OEIF graded inspection": _d(r["published"])})}


def _neighbours(spec, as_at: date, rng) -> list[dict]:
    """Three schools of another authority (Ofsted's file is all of England)."""
    la = 373 if spec.la_code != 373 else 370
    return [{"urn": 900_000 + la * 10 + i, "laestab": la * 10_000 + 2100 + i, "school_name": f"Elsewhere School {i + 1}",
             "phase": "Primary", "la_name": "Another authority", "number": 19_000_000 + i, "start": as_at - timedelta(days=400 + i),
             "end": as_at - timedelta(days=399 + i), "published": as_at - timedelta(days=360 + i), "framework": "EIF",
             "overall": 2, "keys": dict.fromkeys(("quality_of_education", "behaviour_and_attitudes", "personal_development",
                                                   "leadership_and_management"), 2),
             "safeguarding": "Yes", "early_years": 2, "sixth_form": 9, "concern": None} for i in range(3)]


def write_ofsted(spec, borough, out: Path) -> list[str]:
    rng = np.random.default_rng([spec.seed, 19])
    files = []
    # --- the EIF layout, as at 31 August after the first year: an .xlsx with a title row ---------------
    old_at = date(spec.first_year + 1, 8, 31)
    history = inspections(spec, borough, date(spec.last_year + 2, 3, 31), rng)
    open_urns = lambda day: set(borough.schools.filter(  # noqa: E731
        (pl.col("open_date") <= day) & (pl.col("close_date").is_null() | (pl.col("close_date") > day)))["urn"].to_list())

    def latest(day: date, keep=lambda r: True) -> dict[int, list[dict]]:
        by_urn: dict[int, list[dict]] = {}
        for r in history:
            if r["published"] <= day and r["urn"] in open_urns(day) and keep(r):
                by_urn.setdefault(r["urn"], []).append(r)
        return by_urn

    rows = []
    for _urn, done in sorted(latest(old_at).items()):
        r, prev = done[-1], (done[-2] if len(done) > 1 else None)
        cells = {**_school_cells(r, spec), **_eif_cells(r)}
        if prev:
            cells.update({"Previous inspection number": str(prev["number"]), "Previous inspection start date": _d(prev["start"]),
                          "Previous inspection end date": _d(prev["end"]), "Previous publication date": _d(prev["published"]),
                          "Previous overall effectiveness": str(prev["overall"]), "Previous category of concern": prev["concern"] or ""})
        rows.append(cells)
    rows += [{**_school_cells(r, spec), **_eif_cells(r)} for r in _neighbours(spec, old_at, rng)]
    frame = pl.DataFrame([{c: row.get(c, "") for c in EIF_LAYOUT} for row in rows], schema=dict.fromkeys(EIF_LAYOUT, pl.String))
    name = f"Management_information_-_state-funded_schools_-_as_at_{old_at:%d_%b_%Y}.xlsx"
    import xlsxwriter

    with xlsxwriter.Workbook(out / name) as wb:
        wb.set_properties({"created": datetime(2000, 1, 1)})  # byte-identical for a seed
        ws = wb.add_worksheet("Most recent inspections")
        ws.write(0, 0, f"Management information - state-funded schools - latest inspections as at {old_at:%d %B %Y}")
        frame.write_excel(wb, worksheet=ws, position=(1, 0), autofit=False, table_style=None, autofilter=False)
    files.append(name)

    # --- the report-card layout, as at 31 March two years after the last year: CSV, Windows-1252 ------
    new_at = date(spec.last_year + 2, 3, 31)
    rows = []
    for _urn, done in sorted(latest(new_at).items()):
        r = done[-1]
        cells = _school_cells(r, spec)
        graded_eif = [x for x in done if x["framework"] == "EIF"]
        if r["framework"] == "Report card":
            cells["Category of concern"] = r["concern"] or ""
            for a, h in REPORT_CARD_AREAS.items():
                if a in r["grades"]:
                    cells[h] = r["grades"][a]
                    cells[f"{h} - date of grade"] = _d(r["published"])
        else:
            cells["Category of concern"] = r["concern"] or ""
        if graded_eif:
            g = graded_eif[-1]
            cells.update(_eif_cells(g, prefix="Latest OEIF ", concern_header="Latest OEIF category of concern"))
        cells["Most recent category of concern"] = r["concern"] or ""
        rows.append(cells)
    rows += [{**_school_cells(r, spec), **_eif_cells(r, prefix="Latest OEIF ", concern_header="Latest OEIF category of concern")}
             for r in _neighbours(spec, new_at, rng)]
    frame = pl.DataFrame([{c: row.get(c, "") for c in REPORT_CARD_LAYOUT} for row in rows],
                         schema=dict.fromkeys(REPORT_CARD_LAYOUT, pl.String))
    name = f"Management_information_-_state-funded_schools_-_latest_inspections_as_at_{new_at:%d_%b_%Y}.csv"
    (out / name).write_bytes(frame.write_csv().encode("cp1252", errors="replace"))
    files.append(name)
    return files
