"""Many authorities' files in one inbox: the benchmark's England-scale load.

Each authority is a synthetic borough of its own (own LA code, seed, schools and pupils; its
UPNs stay in its own LA range), generated in parallel, then put together as a regional or
national deployment would receive them: every authority's termly and yearly files side by side
(named with the LA code), and one schools and one learning-communities reference covering all.
Learning community codes and URNs are made unique across authorities, as they are nationally.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import polars as pl

from synthetic.files import generate
from synthetic.spec import BoroughSpec

FIRST_LA_CODE = 300  # synthetic codes 300, 301, ...: 3 digits, as LAESTAB and UPN need
URNS_PER_AUTHORITY = 5_000  # URN = 100000 + authority index * 5000 + rank within the authority


def authority_spec(index: int, template: BoroughSpec) -> BoroughSpec:
    code = FIRST_LA_CODE + index
    return replace(template, seed=code, la_code=code, la_name=f"Authority {code}", joiner_la_codes=(),
                   reference_format="pathways")  # one schools.csv across the authorities


def generate_authorities(n_authorities: int, template: BoroughSpec, out_dir: Path,
                         progress: Callable[[str], None] = lambda m: None) -> dict:
    """Generate ``n_authorities`` boroughs shaped like ``template`` into one inbox ``out_dir``."""
    if n_authorities * URNS_PER_AUTHORITY > 899_999:
        raise ValueError(f"at most {899_999 // URNS_PER_AUTHORITY} authorities fit the 6-digit URN range")
    out_dir.mkdir(parents=True, exist_ok=True)
    specs = [authority_spec(i, template) for i in range(n_authorities)]
    workers = min(os.cpu_count() or 1, n_authorities)
    schools, communities, pupils, files = [], [], 0, 0
    # spawn: the caller may run DuckDB or polars thread pools, which fork does not copy safely
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(generate, spec, out_dir / f"_la{spec.la_code}") for spec in specs]
        for i, (spec, future) in enumerate(zip(specs, futures)):
            manifest = future.result()
            folder = out_dir / f"_la{spec.la_code}"
            lc, sc = _reference(folder, spec, i)
            communities.append(lc)
            schools.append(sc)
            for name in manifest["files"]:
                if name.startswith("Management_information"):
                    # Ofsted's file names each borough's own URNs, which are renumbered above: not sent
                    (folder / name).unlink()
                    continue
                if name.startswith(("early_years_census", "eligible_two_year_olds", "home_areas",
                                     "population_estimates")):
                    # funded early education is counted by home area for the deploying authority only (each
                    # borough's postcode sectors and setting URNs are its own): not sent to a national inbox
                    (folder / name).unlink()
                    continue
                if name not in ("schools.csv", "learning_communities.csv"):
                    src = folder / name
                    src.rename(out_dir / f"{src.stem}_la{spec.la_code}{src.suffix}")
                    files += 1
            shutil.rmtree(folder)
            pupils += manifest["pupils_simulated"]
            if (i + 1) % 10 == 0 or i + 1 == n_authorities:
                progress(f"authorities: {i + 1} of {n_authorities} generated ({pupils:,} pupils simulated)")
    pl.concat(communities).write_csv(out_dir / "learning_communities.csv")
    schools_frame = pl.concat(schools)
    schools_frame.write_csv(out_dir / "schools.csv")
    return {"authorities": n_authorities, "pupils_simulated": pupils, "files": files + 2,
            "schools": schools_frame["LAESTAB"].n_unique(), "learning_communities": sum(f.height for f in communities)}


def _reference(folder: Path, spec: BoroughSpec, index: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One authority's reference files with codes made unique across authorities."""
    prefix = pl.lit(f"{spec.la_code}-")
    lcs = pl.read_csv(folder / "learning_communities.csv", infer_schema_length=0).with_columns(
        pl.concat_str(prefix, pl.col("LearningCommunityCode")).alias("LearningCommunityCode"),
        pl.concat_str(pl.col("LearningCommunityName"), pl.lit(f" ({spec.la_name})")).alias("LearningCommunityName"))
    schools = pl.read_csv(folder / "schools.csv", infer_schema_length=0)
    # each borough numbers its URNs from the same few ranges: renumber by rank within the authority
    urns = pl.concat([schools["URN"], schools["PredecessorURN"].drop_nulls()]).unique().sort()
    renumber = dict(zip(urns.to_list(), (str(100_000 + index * URNS_PER_AUTHORITY + r) for r in range(len(urns)))))
    schools = schools.with_columns(
        pl.col("URN").replace_strict(renumber),
        pl.col("PredecessorURN").replace_strict(renumber, default=None),
        pl.concat_str(prefix, pl.col("LearningCommunityCode")).alias("LearningCommunityCode"))
    return lcs, schools
