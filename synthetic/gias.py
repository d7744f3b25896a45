"""Write schools as Get Information About Schools publishes them (docs/methodology.md#gias-extracts).

``edubasealldata<YYYYMMDD>.csv`` with the full published header, ``links_edubasealldata<YYYYMMDD>.csv``
and a small learning-community membership file keyed by URN, byte for byte in GIAS's format: Windows-1252,
every field quoted except the numeric ones GIAS leaves bare, dates DD-MM-YYYY, CRLF line ends and no
line break after the last row. A few establishments of neighbouring authorities are included, as every
real extract lists all of England.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from ingest.gias import ESTABLISHMENT_COLUMNS, LINK_COLUMNS

# columns GIAS writes without quotes (real rows: URN, ages, capacity, UKPRN, easting/northing, SEN counts)
UNQUOTED = {"URN", "StatutoryLowAge", "StatutoryHighAge", "SchoolCapacity", "UKPRN", "Easting", "Northing", "SENStat",
            "SENNoStat", "LinkURN"}
# GIAS's type codes and phase codes for the names the generator uses (docs/methodology.md#gias-extracts)
TYPE_CODES = {"Community school": "01", "Voluntary aided school": "02", "Community special school": "07",
              "Other independent school": "11", "Pupil referral unit": "14", "Academy converter": "34",
              "Academy special converter": "44", "Academy alternative provision converter": "42"}
TYPE_GROUPS = {"01": ("4", "Local authority maintained schools"), "02": ("4", "Local authority maintained schools"),
               "14": ("4", "Local authority maintained schools"), "07": ("5", "Special schools"),
               "11": ("3", "Independent schools"), "34": ("10", "Academies"), "44": ("10", "Academies"),
               "42": ("10", "Academies")}
PHASES = {"Nursery": ("1", "Nursery"), "Primary": ("2", "Primary"), "Secondary": ("4", "Secondary"),
          "Special": ("0", "Not applicable"), "Pupil referral unit": ("0", "Not applicable")}
# a few of another authority's establishments (real rows of the City of London, LA 201, from GIAS)
OTHER_AUTHORITY = [
    {"URN": "100000", "LA (code)": "201", "LA (name)": "City of London", "EstablishmentNumber": "3614",
     "EstablishmentName": "The Aldgate School", "type": "Voluntary aided school", "phase": "Primary",
     "OpenDate": "", "CloseDate": ""},
    {"URN": "100001", "LA (code)": "201", "LA (name)": "City of London", "EstablishmentNumber": "6005",
     "EstablishmentName": "City of London School for Girls", "type": "Other independent school", "phase": "Secondary",
     "OpenDate": "01-01-1920", "CloseDate": ""},
]


def _gias_date(d) -> str:
    return d.strftime("%d-%m-%Y") if d is not None else ""


def _line(values: dict, header: tuple[str, ...]) -> str:
    out = []
    for h in header:
        v = values.get(h, "")
        v = "" if v is None else str(v)
        out.append(v if h in UNQUOTED and v != "" else '"' + v.replace('"', '""') + '"')
    return ",".join(out)


def write_cp1252(path: Path, header: tuple[str, ...], rows: list[dict]) -> None:
    lines = [",".join(f'"{h}"' for h in header)] + [_line(r, header) for r in rows]
    path.write_bytes("\r\n".join(lines).encode("cp1252"))  # no line break after the last row, as GIAS


def establishment_row(urn, la_code, la_name, number, name, type_name, phase, open_date, close_date,
                      low_age=None, high_age=None) -> dict:
    type_code = TYPE_CODES.get(type_name, "27")
    group = TYPE_GROUPS.get(type_code, ("9", "Other types"))
    phase_code, phase_name = PHASES.get(phase, ("0", "Not applicable"))
    closed = bool(close_date)
    return {
        "URN": urn, "LA (code)": f"{int(la_code):03d}", "LA (name)": la_name,
        "EstablishmentNumber": f"{int(number):04d}" if number is not None else "", "EstablishmentName": name,
        "TypeOfEstablishment (code)": type_code, "TypeOfEstablishment (name)": type_name,
        "EstablishmentTypeGroup (code)": group[0], "EstablishmentTypeGroup (name)": group[1],
        "EstablishmentStatus (code)": "2" if closed else "1", "EstablishmentStatus (name)": "Closed" if closed else "Open",
        "ReasonEstablishmentOpened (code)": "00", "ReasonEstablishmentOpened (name)": "Not applicable",
        "OpenDate": open_date, "ReasonEstablishmentClosed (code)": "10" if closed else "00",
        "ReasonEstablishmentClosed (name)": "Academy Converter" if closed else "Not applicable", "CloseDate": close_date,
        "PhaseOfEducation (code)": phase_code, "PhaseOfEducation (name)": phase_name,
        "StatutoryLowAge": low_age, "StatutoryHighAge": high_age, "Boarders (code)": "1", "Boarders (name)": "No boarders",
        "Gender (code)": "3", "Gender (name)": "Mixed", "Country (name)": "United Kingdom", "GOR (code)": "D",
        "GOR (name)": "Yorkshire and the Humber",
    }


def write_gias(schools: pl.DataFrame, la_code: int, la_name: str, out: Path, extract_date: date) -> list[str]:
    """The borough's schools as a GIAS extract, its links file and a membership file; returns the names.

    ``schools``: urn, laestab, school_name, phase, establishment_type, learning_community_code, open_date,
    close_date, predecessor_urn (one row per URN, an academy converter beside its predecessor)."""
    stamp = extract_date.strftime("%Y%m%d")
    rows = [establishment_row(r["URN"], r["LA (code)"], r["LA (name)"], r["EstablishmentNumber"],
                              r["EstablishmentName"], r["type"], r["phase"], r["OpenDate"], r["CloseDate"])
            for r in OTHER_AUTHORITY]
    links: list[dict] = []
    for r in schools.sort("urn").iter_rows(named=True):
        number = int(r["laestab"]) % 10000
        rows.append(establishment_row(r["urn"], la_code, la_name, number, r["school_name"], r["establishment_type"],
                                      r["phase"], _gias_date(r["open_date"]), _gias_date(r["close_date"])))
        if r["predecessor_urn"] is not None:
            when = _gias_date(r["open_date"])
            links.append({"URN": r["urn"], "LinkURN": r["predecessor_urn"], "LinkName": None, "LinkType": "Predecessor",
                          "LinkEstablishedDate": when})
            links.append({"URN": r["predecessor_urn"], "LinkURN": r["urn"], "LinkName": r["school_name"],
                          "LinkType": "Successor", "LinkEstablishedDate": when})
    names = dict(zip(schools["urn"].to_list(), schools["school_name"].to_list()))
    for link in links:
        link["LinkName"] = link["LinkName"] or names.get(link["LinkURN"], "")
    # a real extract's sixth-form-centre link between two other establishments: not succession
    links.append({"URN": "100000", "LinkURN": "100001", "LinkName": "City of London School for Girls",
                  "LinkType": "Sixth Form Centre Link", "LinkEstablishedDate": ""})
    extract = f"edubasealldata{stamp}.csv"
    write_cp1252(out / extract, ESTABLISHMENT_COLUMNS, rows)
    links_name = f"links_edubasealldata{stamp}.csv"
    write_cp1252(out / links_name, LINK_COLUMNS, sorted(links, key=lambda x: (int(x["URN"]), int(x["LinkURN"]))))
    # membership: the open schools only (a closed predecessor takes its successor's community via the links)
    members = schools.filter(pl.col("close_date").is_null()).sort("urn").select(
        pl.col("urn").alias("URN"), pl.col("school_name").alias("SchoolName"),
        pl.col("learning_community_code").alias("LearningCommunityCode"))
    membership = "learning_community_membership.csv"
    members.write_csv(out / membership)
    return [extract, links_name, membership]
