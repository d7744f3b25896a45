"""Get Information About Schools (GIAS): the establishment extract and its links file, as downloaded.

The files (docs/methodology.md#gias-extracts): ``edubasealldata<YYYYMMDD>.csv`` (one row per
establishment in England and Wales, open and closed, about 50,000 rows) and
``links_edubasealldata<YYYYMMDD>.csv`` (predecessor, successor and other links between URNs), from
https://get-information-schools.service.gov.uk/Downloads. Both are Windows-1252 text, every column
quoted except some numbers, dates DD-MM-YYYY, CRLF line ends and no line break after the last row.

Pathways matches columns by name, never by position (the published column set changes: Ofsted
columns were dropped in April 2025), needs only the few it uses, and does not warn about the rest
of the published header: they are GIAS's own columns, not a mistake in the file.
"""

from __future__ import annotations

from ingest.sources import normalise_header

# The header of edubasealldata as published on 2025-04-22 (135 columns, in order).
ESTABLISHMENT_COLUMNS: tuple[str, ...] = (
    "URN", "LA (code)", "LA (name)", "EstablishmentNumber", "EstablishmentName", "TypeOfEstablishment (code)",
    "TypeOfEstablishment (name)", "EstablishmentTypeGroup (code)", "EstablishmentTypeGroup (name)",
    "EstablishmentStatus (code)", "EstablishmentStatus (name)", "ReasonEstablishmentOpened (code)",
    "ReasonEstablishmentOpened (name)", "OpenDate", "ReasonEstablishmentClosed (code)",
    "ReasonEstablishmentClosed (name)", "CloseDate", "PhaseOfEducation (code)", "PhaseOfEducation (name)",
    "StatutoryLowAge", "StatutoryHighAge", "Boarders (code)", "Boarders (name)", "NurseryProvision (name)",
    "OfficialSixthForm (code)", "OfficialSixthForm (name)", "Gender (code)", "Gender (name)",
    "ReligiousCharacter (code)", "ReligiousCharacter (name)", "ReligiousEthos (name)", "Diocese (code)",
    "Diocese (name)", "AdmissionsPolicy (code)", "AdmissionsPolicy (name)", "SchoolCapacity", "SpecialClasses (code)",
    "SpecialClasses (name)", "CensusDate", "NumberOfPupils", "NumberOfBoys", "NumberOfGirls", "PercentageFSM",
    "TrustSchoolFlag (code)", "TrustSchoolFlag (name)", "Trusts (code)", "Trusts (name)", "SchoolSponsorFlag (name)",
    "SchoolSponsors (name)", "FederationFlag (name)", "Federations (code)", "Federations (name)", "UKPRN",
    "FEHEIdentifier", "FurtherEducationType (name)", "LastChangedDate", "Street", "Locality", "Address3", "Town",
    "County (name)", "Postcode", "SchoolWebsite", "TelephoneNum", "HeadTitle (name)", "HeadFirstName", "HeadLastName",
    "HeadPreferredJobTitle", "BSOInspectorateName (name)", "InspectorateReport", "DateOfLastInspectionVisit",
    "NextInspectionVisit", "TeenMoth (name)", "TeenMothPlaces", "CCF (name)", "SENPRU (name)", "EBD (name)",
    "PlacesPRU", "FTProv (name)", "EdByOther (name)", "Section41Approved (name)", "SEN1 (name)", "SEN2 (name)",
    "SEN3 (name)", "SEN4 (name)", "SEN5 (name)", "SEN6 (name)", "SEN7 (name)", "SEN8 (name)", "SEN9 (name)",
    "SEN10 (name)", "SEN11 (name)", "SEN12 (name)", "SEN13 (name)", "TypeOfResourcedProvision (name)",
    "ResourcedProvisionOnRoll", "ResourcedProvisionCapacity", "SenUnitOnRoll", "SenUnitCapacity", "GOR (code)",
    "GOR (name)", "DistrictAdministrative (code)", "DistrictAdministrative (name)", "AdministrativeWard (code)",
    "AdministrativeWard (name)", "ParliamentaryConstituency (code)", "ParliamentaryConstituency (name)",
    "UrbanRural (code)", "UrbanRural (name)", "GSSLACode (name)", "Easting", "Northing", "MSOA (name)", "LSOA (name)",
    "InspectorateName (name)", "SENStat", "SENNoStat", "BoardingEstablishment (name)", "PropsName",
    "PreviousLA (code)", "PreviousLA (name)", "PreviousEstablishmentNumber", "Country (name)", "UPRN", "SiteName",
    "QABName (code)", "QABName (name)", "EstablishmentAccredited (code)", "EstablishmentAccredited (name)",
    "QABReport", "CHNumber", "MSOA (code)", "LSOA (code)", "FSM", "AccreditationExpiryDate",
)
# Columns of earlier downloads, since dropped (2021 to April 2025): still GIAS's own columns.
EARLIER_COLUMNS: tuple[str, ...] = (
    "CensusAreaStatisticWard (name)", "OfstedLastInsp", "OfstedSpecialMeasures (code)",
    "OfstedSpecialMeasures (name)", "OfstedRating (name)", "RSCRegion (name)",
)
LINK_COLUMNS: tuple[str, ...] = ("URN", "LinkURN", "LinkName", "LinkType", "LinkEstablishedDate")

# LinkType values that mean one establishment carries on another (an academy conversion, a merger,
# an amalgamation, a split); "Sixth Form Centre ...", "Other", "Expansion" and "Closure" do not.
SUCCESSION_PREFIXES = ("Predecessor", "Successor")
SUCCESSION_TYPES = ("Result of Amalgamation",)

_PUBLISHED = {normalise_header(h) for h in ESTABLISHMENT_COLUMNS + EARLIER_COLUMNS + LINK_COLUMNS}


def is_published_column(header: str) -> bool:
    """A column of the GIAS downloads (which a GIAS file may carry without Pathways using it)."""
    return normalise_header(header) in _PUBLISHED


def laestab(la_code: int, establishment_number: int) -> int:
    """LAESTAB: the 3-digit LA code then the 4-digit establishment number (docs/methodology.md#laestab)."""
    return la_code * 10000 + establishment_number
