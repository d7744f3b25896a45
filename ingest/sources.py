"""The sources Pathways accepts: their canonical columns, header aliases and how to recognise them.

One mapping of header spellings (``ALIASES``) serves every source: a header is normalised
(lower case, letters and digits only) and looked up there. A file's source is the one whose
required columns it has; attainment files also say which stage they hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest import early_years
from ingest.exclusions import ALIASES as EXCLUSION_ALIASES
from ingest.exclusions import OPTIONAL as EXCLUSION_OPTIONAL
from ingest.exclusions import REQUIRED as EXCLUSION_REQUIRED
from ingest.nccis import ALIASES as NCCIS_ALIASES
from ingest.nccis import OPTIONAL as NCCIS_OPTIONAL
from ingest.nccis import REQUIRED as NCCIS_REQUIRED
from ingest.ofsted import ALIASES as OFSTED_ALIASES
from ingest.ofsted import OPTIONAL as OFSTED_OPTIONAL
from ingest.ofsted import REQUIRED as OFSTED_REQUIRED

# canonical column -> header spellings seen in MIS exports, DfE tools and LA returns
ALIASES: dict[str, list[str]] = {
    "upn": ["UPN", "Unique Pupil Number", "PupilUPN", "Pupil UPN"],
    "uln": ["ULN", "Unique Learner Number"],
    "surname": ["Surname", "Legal Surname", "LastName", "Family Name"],
    "forename": ["Forename", "Legal Forename", "FirstName", "Given Name"],
    "dob": ["DOB", "Date of Birth", "DateOfBirth", "BirthDate"],
    "sex": ["Gender", "Sex"],
    "ethnicity": ["Ethnicity", "Ethnic Code", "EthnicCode", "Ethnicity Code"],
    "first_language": ["FirstLanguage", "First Language", "Language", "Home Language", "FirstLang"],
    "nc_year": ["NCyearActual", "NC Year Actual", "National Curriculum Year", "Year Group", "NCYear", "NC Year"],
    "enrol_status": ["EnrolStatus", "Enrolment Status", "Enrollment Status"],
    "entry_date": ["EntryDate", "Entry Date", "Date of Entry", "Admission Date"],
    "fsm_eligible": ["FSMeligible", "FSM Eligible", "FSM", "Free School Meals", "FSMEligibility"],
    "sen_provision": ["SENprovision", "SEN Provision", "SEN Status", "SEN"],
    "sen_primary_need": ["SENtype1", "SEN Type 1", "Primary Need", "SEN Primary Need", "SENType"],
    "laestab": ["LAESTAB", "LA Estab", "DfE Number", "DfENumber", "LAEstab Number", "School LAESTAB"],
    "census_date": ["CensusDate", "Census Date"],
    "academic_year": ["AcademicYear", "Academic Year", "Year", "Acad Year"],
    "term": ["Term", "Census Term"],
    "possible_sessions": ["PossibleSessions", "Possible Sessions", "Sessions Possible"],
    "authorised_absence_sessions": ["SessionsAuthorisedAbsence", "Authorised Absence", "Authorised Absences",
                                    "Sessions Authorised Absence", "AuthorisedAbsence"],
    "unauthorised_absence_sessions": ["SessionsUnauthorisedAbsence", "Unauthorised Absence", "Unauthorised Absences",
                                      "Sessions Unauthorised Absence", "UnauthorisedAbsence"],
    "ever6_fsm": ["Ever6FSM", "Ever 6 FSM", "FSM Ever 6", "Ever6"],
    "looked_after": ["CLA", "Looked After", "LAC", "Child Looked After"],
    "previously_looked_after": ["PLAC", "Post LAC", "Previously Looked After"],
    "service_child": ["ServiceChild", "Service Child", "Service Children", "Service"],
    "phonics_mark": ["PhonicsMark", "Phonics Mark", "PSC Mark", "Mark"],
    "phonics_outcome": ["PhonicsOutcome", "Phonics Outcome", "PSC Outcome", "Outcome"],
    "ks1_reading": ["READ_TA", "KS1 Reading TA", "Reading TA"],
    "ks1_writing": ["WRIT_TA", "KS1 Writing TA", "Writing TA"],
    "ks1_maths": ["MAT_TA", "KS1 Maths TA", "Maths TA"],
    "ks1_science": ["SCI_TA", "KS1 Science TA", "Science TA"],
    "ks2_reading": ["READ_SCORE", "Reading Scaled Score", "KS2 Reading", "READ_SS"],
    "ks2_maths": ["MAT_SCORE", "Maths Scaled Score", "KS2 Maths", "MAT_SS"],
    "ks2_gps": ["GPS_SCORE", "GPS Scaled Score", "KS2 GPS", "GPS_SS"],
    "ks2_writing": ["WRIT_TA_KS2", "KS2 Writing TA", "Writing Teacher Assessment"],
    "subject_code": ["SubjectCode", "Subject Code", "QAN Subject", "Subject"],
    "subject_name": ["SubjectName", "Subject Name"],
    "ebacc_pillar": ["EBaccPillar", "EBacc Pillar", "EBacc"],
    "grade": ["Grade", "Result", "GCSE Grade"],
    "urn": ["URN"],
    "school_name": ["SchoolName", "School Name", "EstablishmentName", "Establishment Name"],
    "phase": ["Phase", "PhaseOfEducation", "Phase of Education", "PhaseOfEducation (name)"],
    "establishment_type": ["TypeOfEstablishment", "Type of Establishment", "Establishment Type",
                           "TypeOfEstablishment (name)"],
    "learning_community_code": ["LearningCommunityCode", "Learning Community Code", "LC Code"],
    "learning_community_name": ["LearningCommunityName", "Learning Community Name", "Learning Community"],
    "collaborative": ["Collaborative"],
    "open_date": ["OpenDate", "Open Date"],
    "close_date": ["CloseDate", "Close Date"],
    "predecessor_urn": ["PredecessorURN", "Predecessor URN", "Previous URN"],
    # GIAS downloads (ingest/gias.py): the establishment extract and its links file
    "la_code": ["LA (code)", "LA Code", "LACode"],
    "establishment_number": ["EstablishmentNumber", "Establishment Number"],
    "link_urn": ["LinkURN", "Link URN"],
    "link_name": ["LinkName", "Link Name"],
    "link_type": ["LinkType", "Link Type"],
    "link_established_date": ["LinkEstablishedDate", "Link Established Date"],
}
# Ofsted's management information on school inspections (ingest/ofsted.py)
ALIASES.update(OFSTED_ALIASES)
# the school census exclusions module (ingest/exclusions.py)
ALIASES.update(EXCLUSION_ALIASES)
# the authority's monthly post-16 activity tracking (ingest/nccis.py)
ALIASES.update(NCCIS_ALIASES)
# funded early education: the early years census, the eligible two-year-olds list, home areas (ingest/early_years.py)
ALIASES.update(early_years.ALIASES)
EYFSP_GOALS = [f"E{g:02d}" for g in range(1, 18)]
for _g in EYFSP_GOALS:
    ALIASES[_g.lower()] = [_g, f"ELG{_g[1:]}", f"ELG {_g[1:]}"]


def normalise_header(h: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(h).lower().lstrip("\ufeff"))


_LOOKUP = {normalise_header(a): canon for canon, names in ALIASES.items() for a in names}


def canonical_header(h: str, context: set[str] | None = None) -> str | None:
    """The canonical column a header means, or None when unknown."""
    n = normalise_header(h)
    if n == "writta" and context and ("ks2_reading" in context or "ks2_maths" in context):
        return "ks2_writing"  # WRIT_TA means KS2 writing beside scaled scores, KS1 writing otherwise
    return _LOOKUP.get(n)


@dataclass(frozen=True)
class Source:
    name: str            # census | attendance | attainment | pupil_premium | schools | learning_communities
    stage: str | None    # attainment only: eyfsp | phonics | ks1 | ks2 | ks4
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.name} ({self.stage})" if self.stage else self.name


_PUPIL = ("upn", "laestab")
SOURCES: list[Source] = [
    Source("census", None, _PUPIL + ("dob", "sex", "nc_year", "enrol_status", "census_date"),
           ("uln", "surname", "forename", "ethnicity", "first_language", "entry_date", "fsm_eligible",
            "sen_provision", "sen_primary_need")),
    Source("attendance", None, _PUPIL + ("academic_year", "term", "possible_sessions", "authorised_absence_sessions",
                                         "unauthorised_absence_sessions"), ("surname", "forename", "dob")),
    Source("pupil_premium", None, _PUPIL + ("academic_year", "ever6_fsm"),
           ("looked_after", "previously_looked_after", "service_child", "surname", "forename", "dob")),
    Source("attainment", "eyfsp", _PUPIL + ("academic_year", *[g.lower() for g in EYFSP_GOALS[:12]]),
           ("dob", "sex", "surname", "forename", *[g.lower() for g in EYFSP_GOALS[12:]])),
    Source("attainment", "phonics", _PUPIL + ("academic_year", "phonics_outcome"),
           ("phonics_mark", "nc_year", "dob", "sex", "surname", "forename")),
    Source("attainment", "ks1", _PUPIL + ("academic_year", "ks1_reading", "ks1_writing", "ks1_maths"),
           ("ks1_science", "dob", "sex", "surname", "forename")),
    Source("attainment", "ks2", _PUPIL + ("academic_year", "ks2_reading", "ks2_maths", "ks2_writing"),
           ("ks2_gps", "dob", "sex", "surname", "forename")),
    Source("attainment", "ks4", _PUPIL + ("academic_year", "subject_code", "grade"),
           ("subject_name", "ebacc_pillar", "dob", "sex", "surname", "forename")),
    Source("schools", None, ("urn", "laestab", "school_name", "learning_community_code"),
           ("phase", "establishment_type", "collaborative", "open_date", "close_date", "predecessor_urn")),
    Source("learning_communities", None, ("learning_community_code", "learning_community_name"), ("collaborative",)),
    # the GIAS establishment extract as downloaded: LAESTAB is made from LA (code) and EstablishmentNumber
    Source("schools", None, ("urn", "la_code", "establishment_number", "school_name"),
           ("phase", "establishment_type", "open_date", "close_date", "learning_community_code", "collaborative")),
    # the GIAS links file: predecessor and successor URNs (academy conversions, mergers)
    Source("school_links", None, ("urn", "link_urn", "link_type"), ("link_name", "link_established_date")),
    # which learning community each school is in, keyed by URN or by LAESTAB (with a GIAS extract)
    Source("community_membership", None, ("urn", "learning_community_code"),
           ("laestab", "school_name", "learning_community_name")),
    Source("community_membership", None, ("laestab", "learning_community_code"),
           ("urn", "school_name", "learning_community_name")),
    # Ofsted's monthly management information on state-funded school inspections, by URN (reference)
    Source("ofsted_inspections", None, OFSTED_REQUIRED, OFSTED_OPTIONAL),
    # the school census exclusions module: one row per suspension or permanent exclusion (pupil level)
    Source("exclusions", None, EXCLUSION_REQUIRED, EXCLUSION_OPTIONAL),
    # the authority's monthly tracking of 16-17 year olds' activity (NCCIS codes), one row per young person per month
    Source("post16_activity", None, NCCIS_REQUIRED, NCCIS_OPTIONAL),
    # funded early education (ingest/early_years.py): the January early years census (PVI providers' funded
    # children), the authority's list of eligible two-year-olds, and postcode sectors -> learning communities
    Source("early_years_census", None, early_years.CENSUS_REQUIRED, early_years.CENSUS_OPTIONAL),
    Source("eligible_two_year_olds", None, early_years.LIST_REQUIRED, early_years.LIST_OPTIONAL),
    Source("home_areas", None, early_years.AREAS_REQUIRED, early_years.AREAS_OPTIONAL),
    # ONS mid-year estimates of resident children by postcode sector and age: the population denominator
    Source("population_estimates", None, early_years.POPULATION_REQUIRED, early_years.POPULATION_OPTIONAL),
]
SOURCE_NAMES = sorted({s.name for s in SOURCES})
# the sources whose raw tables hold pupils (keyed by pupil_key): erasure, subject access, retention and key checks
PUPIL_SOURCES = ("census", "attendance", "attainment", "pupil_premium", "exclusions", "post16_activity",
                 # funded early education (ingest/early_years.py)
                 "early_years_census", "eligible_two_year_olds")


def detect_source(canonical_columns: set[str]) -> Source | None:
    """The most specific source whose required columns are all present."""
    matches = [s for s in SOURCES if set(s.required) <= canonical_columns]
    if not matches:
        return None
    # equally specific: the source that uses more of the file's columns (a membership file with
    # community names is membership, not a list of communities)
    return max(matches, key=lambda s: (len(s.required), len(canonical_columns & {*s.required, *s.optional})))


def sources_named(name: str) -> list[Source]:
    return [s for s in SOURCES if s.name == name]
