"""The one typed settings object for Pathways.

Every setting has a documented default and can be overridden by an environment variable
named ``PATHWAYS_<FIELD>`` (for example ``PATHWAYS_SUPPRESSION_THRESHOLD=10``). Paths are
relative to the project root unless absolute. Nothing here is ever logged in full: the
pseudonymisation key is read from a file outside the repository (or from the environment)
and only its fingerprint is ever shown.
"""

from __future__ import annotations

import hmac
import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.labels import DISADVANTAGE_BREAKDOWN

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PATHWAYS_", extra="ignore")

    # --- where things live -------------------------------------------------------------
    data_dir: Path = Field(
        default=PROJECT_ROOT / "data",
        description="Root of inbox/, archive/, quarantine/, published/ and the working warehouse.",
    )
    warehouse_path: Path | None = Field(
        default=None,
        description="Working DuckDB file written by ingest and dbt (default: <data_dir>/warehouse.duckdb); "
        "dbt's profile gets it as the var pathways:warehouse_path.",
    )
    key_file: Path = Field(
        default=Path.home() / ".config" / "pathways" / "pseudonymisation.key",
        description="File holding the pupil pseudonymisation key, outside the repo. Created only for a new, empty "
                    "warehouse; a missing key with an existing warehouse is an error (README: the pseudonymisation key).",
    )
    pseudonymisation_key: str | None = Field(
        default=None,
        description="The key itself, for deployments that inject secrets by environment. Wins over key_file.",
    )
    dagster_home: Path = Field(
        default_factory=lambda: Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster"),
        description="Dagster's instance folder (run history, schedules). Dagster's own DAGSTER_HOME is honoured; "
                    "default: .dagster/ in the project.")
    dbt_target: str = Field(default="local", description="dbt profile target (dbt_project/profiles.yml).")
    log_level: str = Field(default="INFO", description="Level of the run log shown by `pathways refresh --verbose` "
                           "(and by runs from code); the log file under <data_dir>/logs/ has every line.")
    duckdb_memory_limit: str = Field(
        default="8GB", description="Memory DuckDB may use while dbt builds (it spills to disk beyond it); "
                                   "DuckDB's own default is 80% of RAM.")

    # --- the SQL engine dbt builds on (README: Running on a cluster) ---------------------------
    engine: Literal["duckdb", "spark"] = Field(
        default="duckdb", description="Engine dbt builds the warehouse on: duckdb (embedded, one file) or spark "
                                      "(dbt-spark; raw uploads shared as Parquet under lake_dir).")
    spark_target: str = Field(
        default="spark", description="dbt profile target used when engine is spark: spark (a local session) or a "
                                     "cluster target you add to dbt_project/profiles.yml.")
    spark_dir: Path | None = Field(
        default=None, description="The local Spark session's metastore and tables (default: <data_dir>/spark); "
                                  "the published marts are read from its Parquet files.")
    lake_dir: Path | None = Field(
        default=None, description="Raw uploads as Parquet, one file per upload, for the Spark engine "
                                  "(default: <data_dir>/lake).")
    spark_driver_memory: str = Field(default="4g", description="Memory of the local Spark session's driver (engine spark).")

    # --- the borough --------------------------------------------------------------------
    la_code: int = Field(default=372, description="Old (3-digit) LA code of the authority (Rotherham 372).")
    la_name: str = Field(default="Rotherham", description="The authority's name, for the EES la_name column.")
    new_la_code: str = Field(default="E08000018", description="The authority's 9-character ONS code (new_la_code).")

    # --- publication rules ----------------------------------------------------------------
    publication_contact: str = Field(
        default="", description="Who readers of the workbooks and open data contact with questions (a team and email "
                                "address); blank: 'the <la_name> education data team'.")
    suppression_threshold: int = Field(
        default=5, description="Withhold any figure whose denominator is this or fewer (DfE performance tables: 5)."
    )
    suppression_min_count: int = Field(
        default=3, description="Withhold any count of pupils below this (1 and 2), and its complement."
    )
    suppression_group_disclosure_pupils: int = Field(
        default=10, description="Withhold a count that is 0% or 100% of a group of this many pupils or fewer: it would "
                                "tell something about every child in the group (group disclosure).")
    community_breakdowns: list[str] = Field(
        default=[DISADVANTAGE_BREAKDOWN, "SEN provision", "Sex", "First language"],
        description="Breakdowns published for each learning community; every other breakdown (SEN primary need, "
                    "ethnicity, Gypsy, Roma and Traveller, mobility) for the authority only. At community level most "
                    "of their cells are too small to publish and each one withheld needs others withheld beside it "
                    "(docs/methodology.md#breakdowns-published-for-learning-communities).")
    community_totals_only: list[str] = Field(
        default=["permanent_exclusion_rate", "permanent_exclusion_rate_primary", "permanent_exclusion_rate_secondary"],
        description="Measures published for each learning community without breakdowns (all pupils only; the authority "
                    "keeps every breakdown): events so rare that a community's subgroups hold 0, 1 or 2 of them, which "
                    "no combination of withheld cells can protect (docs/methodology.md#breakdowns-published-for-learning-communities).")
    disclosure_protection_level: int = Field(
        default=3, description="The disclosure audit refuses to publish if the published figures, combined, narrow a "
                               "withheld count to fewer than this many values wide (docs/methodology.md#protection-level).")
    disclosure_audit: bool = Field(
        default=True, description="Run the blocking disclosure audit before the swap: every withheld count's range, "
                                  "given everything published, must be at least the protection level wide, or nothing "
                                  "is published (docs/methodology.md#disclosure-audit). Turn off only to investigate.")
    @field_validator("community_breakdowns")
    @classmethod
    def _gaps_need_disadvantage(cls, value: list[str]) -> list[str]:
        if DISADVANTAGE_BREAKDOWN not in value:  # every community's gap is read from these rows
            raise ValueError(f"community_breakdowns must include {DISADVANTAGE_BREAKDOWN!r}: the gaps are built from it")
        return value

    publications_kept: int = Field(default=5, description="How many past publications to keep on disk.")
    validation_batch_rows: int = Field(
        default=2_000_000, description="Uploads of one source are validated together up to this many rows "
                                       "(fewer GE runs; bounds the memory one batch takes).")
    # --- intake: what is taken from the inbox, and what a load may remove ----------------------
    inbox_settle_seconds: float = Field(
        default=10, description="A file is taken from the inbox only when its size and modification time have not "
                                "changed for this long (and no process has it open for writing); a refresh waits up to "
                                "this long for files still arriving.")
    reference_removal_limit: float = Field(
        default=0.10, description="A schools or learning-communities file that would remove more than this share of "
                                  "those already loaded is held until `pathways confirm <upload-id>`.")
    school_term_shrink_limit: float = Field(
        default=0.25, description="A pupil file that would cut a school-term's (school-year's, for attainment and pupil "
                                  "premium) rows by more than this share is held until `pathways confirm <upload-id>`.")
    refresh_wait_seconds: float = Field(
        default=3600, description="A scheduled or sensor-started refresh that finds another running waits this long "
                                  "for it, then gives up saying so (`pathways refresh` says so at once unless --wait).")
    pupil_count_tolerance: float = Field(
        default=0.20, description="A community's pupils on roll may move this share between years before a warning.")

    # --- metric rules ----------------------------------------------------------------------
    persistent_absence_threshold: float = Field(
        default=0.10, description="Share of own possible sessions missed that makes an enrolment persistently absent."
    )
    severe_absence_threshold: float = Field(default=0.50, description="Share of sessions missed that makes absence severe.")
    phonics_threshold: int = Field(default=32, description="Phonics check mark that meets the standard (32 every year so far).")
    gap_index_ks2_method: str = Field(
        default="average_of_subjects",
        description="KS2 disadvantage gap index: rank reading and maths separately and average the gaps "
        "('average_of_subjects'), or rank their sum ('combined'). The DfE detail is unconfirmed.",
    )
    gap_trend_years: int = Field(default=5, description="Years (with results) the gap trend looks back over; at least 3.")
    rolling_window_years: int = Field(
        default=3, description="Years with results pooled in a rolling figure for small cohorts (this year and the "
                               "previous ones).")
    categorisation_rules: dict[str, float] = Field(
        default_factory=dict,
        description="Overrides of the school categorisation thresholds (defaults and meanings in "
        "dbt_project/macros/categorisation.sql), as JSON: {\"attainment_red_pp\": 12}.",
    )

    # --- retention (docs/data-protection.md#retention: the reasons for each default) ---------
    retention_census_years: int = Field(
        default=14, ge=0, description="Years after the end of the academic year (31 August) that census rows and "
        "uploads are kept: a Reception cohort's records are needed until its journey's last stage, at 17 (13 years "
        "on), is final.")
    retention_attainment_years: int = Field(
        default=14, ge=0, description="Years after the end of the academic year that attainment rows and uploads "
        "are kept: EYFSP results start the cohort journey that ends at 17, 13 years later.")
    retention_pupil_premium_years: int = Field(
        default=14, ge=0, description="Years after the end of the academic year that pupil premium rows and uploads "
        "are kept: each stage of the cohort journey is split by that year's disadvantage.")
    retention_post16_years: int = Field(
        default=6, ge=0, description="Years after the end of the academic year that post-16 activity tracking rows "
        "and uploads are kept: they feed each year's NEET and participation figures, their 5-year trends and the "
        "journey's last stage (at 17) of that year, not any later link.")
    retention_attendance_years: int = Field(
        default=6, ge=0, description="Years after the end of the academic year that attendance rows and uploads are "
        "kept: absence feeds each year's figures and the 5-year gap trends, not the cohort journey.")
    retention_quarantine_days: int = Field(
        default=90, ge=0, description="Days a quarantined upload (file, reports, archived copy) is kept for its data "
        "lead to correct and resend it; also an upload held for confirmation that nobody confirmed, and archived files no "
        "upload refers to.")
    retention_subject_access_days: int = Field(
        default=90, ge=0, description="Days a subject access export under <data_dir>/subject_access/ is kept (one "
        "month to respond, extendable by two).")

    # --- schedules --------------------------------------------------------------------------
    nightly_refresh_cron: str = Field(default="0 2 * * *", description="When the nightly refresh runs (cron, Europe/London).")
    termly_full_refresh_cron: str = Field(default="0 3 1 1,4,9 *",
                                          description="When the start-of-term full refresh runs (cron, Europe/London).")

    # --- the scorecard (web application, scorecard/) -----------------------------------------
    scorecard_host: str = Field(default="127.0.0.1", description="Address `pathways serve` listens on (behind a TLS proxy "
                                                                 "in a deployment).")
    scorecard_port: int = Field(default=8000, description="Port `pathways serve` listens on.")
    scorecard_public_url: str | None = Field(
        default=None, description="The scorecard's address as users reach it (https://... behind a proxy): the OpenID "
                                  "Connect redirect address is built from it, and https makes session cookies Secure.")
    scorecard_session_idle_minutes: int = Field(default=60, description="A signed-in session ends after this many "
                                                                        "minutes without a request.")
    scorecard_session_hours: int = Field(default=10, description="A signed-in session ends this many hours after sign-in, "
                                                                 "however busy.")
    scorecard_sign_in_attempts: int = Field(
        default=5, description="Failed sign-ins for one account (four times this from one address) within "
                               "scorecard_lockout_minutes before further attempts are refused.")
    scorecard_lockout_minutes: int = Field(default=15, description="How long failed sign-ins count towards the limit.")
    scorecard_local_accounts: bool = Field(
        default=True, description="Allow sign-in with a local account's password (false: OpenID Connect only).")
    scorecard_small_group: int = Field(
        default=30, description="A group of fewer pupils than this is a small cohort: the scorecard shows its rolling "
                                "3-year figures beside the single year.")
    oidc_issuer: str | None = Field(
        default=None, description="OpenID Connect issuer for sign-in (Microsoft Entra ID: "
                                  "https://login.microsoftonline.com/<tenant-id>/v2.0); unset: local accounts only.")
    oidc_client_id: str | None = Field(default=None, description="The scorecard's client (application) id at the issuer.")
    oidc_client_secret: SecretStr | None = Field(default=None, description="The scorecard's client secret at the issuer.")
    oidc_username_claim: str = Field(
        default="email", description="ID token claim matched to a scorecard account's username (Entra ID: "
                                     "preferred_username or email).")

    # --- the demo borough ------------------------------------------------------------------
    demo_seed: int = Field(default=372, description="Seed of the demo borough `make demo` generates.")

    @property
    def inbox_dir(self) -> Path:
        return self.data_dir / "inbox"

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def published_dir(self) -> Path:
        return self.data_dir / "published"

    @property
    def current_publication(self) -> Path:
        return self.published_dir / "current" / "pathways.duckdb"

    @property
    def access_dir(self) -> Path:
        """The scorecard's accounts, sessions and audit log (kept with the warehouse data, never published)."""
        return self.data_dir / "access"

    @property
    def warehouse(self) -> Path:
        return self.warehouse_path or (self.data_dir / "warehouse.duckdb")

    @property
    def spark_home(self) -> Path:
        return self.spark_dir or (self.data_dir / "spark")

    @property
    def lake(self) -> Path:
        return self.lake_dir or (self.data_dir / "lake")

    @property
    def held_dir(self) -> Path:
        """Uploads held until a data lead confirms them (`pathways confirm <upload-id>`)."""
        return self.data_dir / "held"

    @property
    def intake_log(self) -> Path:
        """One line per file taken from the inbox and what became of it (no pupil data)."""
        return self.data_dir / "intake_log.jsonl"

    @property
    def refresh_lock_file(self) -> Path:
        return self.data_dir / "refresh.lock"

    @property
    def key_source(self) -> str:
        """Where the key comes from, in words (for messages; never the key itself)."""
        return "the PATHWAYS_PSEUDONYMISATION_KEY setting" if self.pseudonymisation_key else f"the key file {self.key_file}"

    @cached_property
    def key(self) -> bytes:
        """The pseudonymisation key. Never created here: a new warehouse's first load creates the key file
        (ingest.keys), and a missing key is an error everywhere else."""
        if self.pseudonymisation_key:
            return self.pseudonymisation_key.encode()
        try:
            text = self.key_file.read_text().strip()
        except FileNotFoundError:
            raise KeyMissing(f"no pseudonymisation key: {self.key_file} does not exist (and "
                             "PATHWAYS_PSEUDONYMISATION_KEY is not set)") from None
        if not text:
            raise KeyMissing(f"the key file {self.key_file} is empty")
        return text.encode()

    def key_fingerprint(self) -> str:
        """Safe to show: identifies which key pseudonymised a warehouse without revealing it."""
        return fingerprint(self.key)


class KeyMissing(Exception):
    """The pseudonymisation key is not where the settings say."""


def fingerprint(key: bytes) -> str:
    """The fingerprint of a key: the first 12 hex characters of HMAC-SHA256(key, "pathways-key-fingerprint")."""
    return hmac.new(key, b"pathways-key-fingerprint", "sha256").hexdigest()[:12]


def get_settings() -> Settings:
    return Settings()


def settings_table() -> str:
    """The README's settings table, written from the fields above (a test keeps the README equal to it)."""
    rows = ["| setting | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        if field.default_factory is not None:
            default = {"dagster_home": "`.dagster/` (or `DAGSTER_HOME`)",
                       "categorisation_rules": "see `dbt_project/macros/categorisation.sql`"}.get(name, "")
        else:
            value = field.default
            if isinstance(value, Path):
                value = value.relative_to(PROJECT_ROOT) if value.is_relative_to(PROJECT_ROOT) else \
                    "~/" + str(value.relative_to(Path.home())) if value.is_relative_to(Path.home()) else value
                value = f"./{value}" if not str(value).startswith(("~", "/")) else value
            default = "unset" if value is None else f"`{value}`"
        meaning = " ".join((field.description or "").split())
        rows.append(f"| `PATHWAYS_{name.upper()}` | {default} | {meaning} |")
    return "\n".join(rows)
