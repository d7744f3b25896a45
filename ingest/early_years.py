"""Funded early education: the January early years census and the authority's list of eligible
two-year-olds (docs/methodology.md#funded-early-education).

- **The early years census** (``early_years_census``): the child-level records private, voluntary
  and independent (PVI) providers return through the authority each January, one row per funded
  child per setting: the child's identifiers and home postcode, the setting's URN (issued by the
  authority, 500000-799999), funded, extended and setting hours, the basis for funding a
  two-year-old (economic criteria, high-level SEN or disability, looked after or adopted from
  care), early years pupil premium and SEN provision.
- **The eligible two-year-olds list** (``eligible_two_year_olds``): DfE forwards DWP's list of
  potentially eligible families to the authority several times a year; its layout is not
  published, so this is Pathways' own: one row per child with the UPN the authority holds or
  allocates for them, date of birth, home postcode, the date of the list and the basis.
- **Home areas** (``home_areas``, reference): which learning community each postcode sector of the
  authority belongs to, so take-up is counted by the community of the child's home.
- **Population estimates** (``population_estimates``, reference): the resident children of each
  postcode sector by single year of age, from ONS mid-year population estimates (the authority
  aggregates ONS's small-area estimates, LSOA or output area, to its postcode sectors). The
  denominator of three- and four-year-olds' take-up; Pathways' own layout: PostcodeSector, MidYear,
  Age, Population.

Only the postcode sector (outward code and first digit of the inward code, "S60 1") is loaded:
enough to place a home in a community, and no more.
"""

from __future__ import annotations

ALIASES: dict[str, list[str]] = {
    "setting_urn": ["SettingURN", "Setting URN", "EstablishmentURN", "Establishment URN", "EYURN", "EY URN"],
    "home_postcode": ["HomePostcode", "Home Postcode", "ChildPostcode", "Child Postcode"],
    "funded_hours": ["FundedHours", "Funded Hours", "FundedFreeEntitlementHours", "Funded free entitlement hours"],
    "extended_hours": ["ExtendedHours", "Extended Hours", "ExtendedEntitlementHours"],
    "hours_at_setting": ["HoursAtSetting", "Hours At Setting", "Hours at setting"],
    "two_year_old_basis": ["TwoYearOldBasis", "Two Year Old Basis", "BasisForFunding", "2YOBasis", "Basis for funding"],
    "eypp": ["EYPP", "EYPPR", "EarlyYearsPupilPremium", "Early Years Pupil Premium"],
    "list_date": ["ListDate", "List Date", "DateOfList", "Date of list"],
    "eligibility_basis": ["EligibilityBasis", "Eligibility Basis", "BenefitBasis"],
    "postcode_sector": ["PostcodeSector", "Postcode Sector"],
    "mid_year": ["MidYear", "Mid Year", "Mid-year", "MidYearEstimate"],
    "age_at_mid_year": ["Age", "AgeAtMidYear", "Age at mid-year"],
    "population": ["Population", "Residents", "Count"],
}
CENSUS_REQUIRED = ("upn", "dob", "census_date", "setting_urn", "funded_hours", "home_postcode")
CENSUS_OPTIONAL = ("surname", "forename", "sex", "extended_hours", "hours_at_setting", "two_year_old_basis", "eypp",
                   "sen_provision")
LIST_REQUIRED = ("upn", "dob", "list_date", "home_postcode")
LIST_OPTIONAL = ("surname", "forename", "sex", "eligibility_basis")
AREAS_REQUIRED = ("postcode_sector", "learning_community_code")
AREAS_OPTIONAL = ("learning_community_name",)
POPULATION_REQUIRED = ("postcode_sector", "mid_year", "age_at_mid_year", "population")
POPULATION_OPTIONAL = ()
# the single years of age an estimate may give (ONS estimates run to 90+)
POPULATION_AGE_RANGE = (0, 90)

# the bases for funding a two-year-old (early years census): economic criteria, high-level SEN or
# disability, looked after or adopted from care; a child can be funded on more than one ("ECO;LAA")
TWO_YEAR_OLD_BASES = {"ECO": "Economic criteria", "HSD": "High level Special Educational Needs or disability",
                      "LAA": "Looked after or adopted from care"}
# the setting URNs the authority issues to early years providers (early years census data items)
SETTING_URN_RANGE = (500000, 799999)
# a UK postcode (outward code, space optional, inward code); the sector is the outward code and the inward digit
POSTCODE = r"^([A-Z]{1,2}[0-9][0-9A-Z]?) ?([0-9])[A-Z]{2}$"
