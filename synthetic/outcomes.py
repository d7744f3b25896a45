"""Outcomes, attendance and pupil premium for the synthetic borough.

Every stage draws from one latent attainment per pupil, so prior attainment predicts later
results, shifted by disadvantage, SEN, EAL (strong early, fading by KS4), Gypsy/Roma and
Traveller heritage, school and learning community. Thresholds are set per year so the
borough lands ``la_offset_pp`` from the national rate in ``spec``.

Planted trends (documented, and checked by the gap marts): in the narrowing community the
disadvantage penalty falls steadily across the period; in the widening community it grows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from synthetic.pupils import Population
from synthetic.schools import Borough
from synthetic.spec import (
    LAST_KS1_YEAR,
    NATIONAL_ABSENCE,
    NATIONAL_GLD,
    NATIONAL_KS1_EXPECTED,
    NATIONAL_KS2_RWM,
    NATIONAL_KS4_BASICS_5,
    NATIONAL_PHONICS_Y1,
    BoroughSpec,
)

FULL_TERM_SESSIONS = (142, 118, 124)
KS4_SUBJECTS = [  # code, name, EBacc pillar, share entered, difficulty offset
    ("ENLA", "English language", "English", 0.98, 0.0), ("ENLI", "English literature", "English", 0.92, 0.0),
    ("MATH", "Mathematics", "Mathematics", 0.98, 0.0), ("SCCA", "Combined science (1)", "Science", 0.80, -0.1),
    ("SCCB", "Combined science (2)", "Science", 0.80, -0.1), ("BIOL", "Biology", "Science", 0.15, 0.5),
    ("HIST", "History", "Humanities", 0.42, 0.0), ("GEOG", "Geography", "Humanities", 0.40, 0.0),
    ("FREN", "French", "Languages", 0.22, 0.1), ("SPAN", "Spanish", "Languages", 0.18, 0.1),
    ("ARTD", "Art and design", "", 0.30, 0.2), ("RELS", "Religious studies", "", 0.35, 0.0),
    ("COMP", "Computer science", "", 0.15, 0.0), ("BUSS", "Business", "", 0.20, -0.1),
    ("PHED", "Physical education", "", 0.15, -0.1), ("DTEC", "Design and technology", "", 0.20, -0.1),
    ("MUSI", "Music", "", 0.07, 0.2), ("DRAM", "Drama", "", 0.08, 0.2), ("MEDI", "Media studies", "", 0.08, -0.1),
]


@dataclass
class Outcomes:
    eyfsp: dict[int, pl.DataFrame]
    phonics: dict[int, pl.DataFrame]
    ks1: dict[int, pl.DataFrame]
    ks2: dict[int, pl.DataFrame]
    ks4: dict[int, pl.DataFrame]
    attendance: dict[tuple[int, int], pl.DataFrame]
    pupil_premium: dict[int, pl.DataFrame]


def disadvantage_penalty(spec: BoroughSpec, lc_codes: np.ndarray, year: int) -> np.ndarray:
    """How far disadvantage pulls latent attainment down, per learning community, this year."""
    span = max(1, spec.last_year - spec.first_year)
    t = (year - spec.first_year) / span
    pen = np.full(len(lc_codes), 0.30)
    pen[lc_codes == spec.planted_narrowing] = 0.30 * (2.4 - 3.2 * t)
    pen[lc_codes == spec.planted_widening] = 0.30 * (0.2 + 2.2 * t)
    return pen


def simulate_outcomes(spec: BoroughSpec, borough: Borough, pop: Population, rng: np.random.Generator) -> Outcomes:
    pupils = pop.pupils
    P = pupils.height
    ability = pupils["ability"].to_numpy()
    eal = pupils["eal"].to_numpy()
    grt = pupils["grt"].to_numpy()
    school_effect = borough.establishments["school_effect"].to_numpy()
    lc_codes = borough.learning_communities["learning_community_code"].to_numpy()
    lc_effect = -0.25 * borough.learning_communities["deprivation"].to_numpy()
    cohort = pupils["cohort"].to_numpy()
    off = spec.la_offset_pp / 100

    out = Outcomes({}, {}, {}, {}, {}, {}, {})
    phonics_y1_met: dict[int, np.ndarray] = {}

    def latent(w: int, y: int, idx: np.ndarray, eal_weight: float, noise: float = 0.5) -> np.ndarray:
        lc = pop.summer_lc[idx, w]
        sen = pop.sen[idx, w]
        return (0.85 * ability[idx] + noise * rng.standard_normal(len(idx))
                - disadvantage_penalty(spec, lc_codes, y)[lc] * pop.disadvantaged[idx, w]
                - 0.65 * (sen == 1) - 1.6 * (sen == 2) - eal_weight * eal[idx] - 0.35 * grt[idx]
                + school_effect[pop.summer_school[idx, w]] + lc_effect[lc])

    for w, y in enumerate(spec.years):
        def at(nc: int, w: int = w, y: int = y) -> np.ndarray:
            return np.flatnonzero((pop.summer_school[:, w] >= 0) & (y - cohort == nc))

        # ---- EYFSP: 17 goals, GLD = expected in E01-E12 -------------------------------------
        if y in NATIONAL_GLD:
            idx = at(0)
            L = latent(w, y, idx, 0.55)
            goals = L[:, None] + 0.55 * rng.standard_normal((len(idx), 17))
            t = np.quantile(goals[:, :12].min(axis=1), 1 - (NATIONAL_GLD[y] / 100 + off))
            codes = np.where(goals >= t, "2", "1").astype(object)
            codes[rng.random(len(idx)) < 0.003] = "A"
            out.eyfsp[y] = _frame(idx, w, pop, {f"E{g + 1:02d}": codes[:, g].astype(str) for g in range(17)})

        # ---- phonics: Year 1 check, Year 2 retake for those who did not meet it --------------------
        if y in NATIONAL_PHONICS_Y1:
            idx = at(1)
            p = latent(w, y, idx, 0.35, 0.45)
            t = np.quantile(p, 1 - (NATIONAL_PHONICS_Y1[y] / 100 + off))
            mark = np.clip(32 + np.floor(6 * (p - t)), 0, 40).astype(int)
            outcome = np.where(mark >= 32, "Wa", "Wt").astype(object)
            sen = pop.sen[idx, w]
            outcome[(sen == 2) & (rng.random(len(idx)) < 0.35)] = "D"
            outcome[rng.random(len(idx)) < 0.01] = "A"
            mark_s = np.where(np.isin(outcome, ["Wa", "Wt"]), mark.astype(str), "")
            phonics_y1_met[y] = np.zeros(P, bool)
            phonics_y1_met[y][idx[outcome == "Wa"]] = True
            frames = [_frame(idx, w, pop, {"NCyearActual": np.full(len(idx), "1"), "PhonicsMark": mark_s,
                                            "PhonicsOutcome": outcome.astype(str)})]
            if y - 1 in phonics_y1_met:
                ridx = np.intersect1d(at(2), np.flatnonzero(~phonics_y1_met[y - 1]))
                r = latent(w, y, ridx, 0.2, 0.45) + 0.9
                rmark = np.clip(32 + np.floor(6 * (r - t)), 0, 40).astype(int)
                rout = np.where(rmark >= 32, "Wa", "Wt")
                frames.append(_frame(ridx, w, pop, {"NCyearActual": np.full(len(ridx), "2"),
                                                    "PhonicsMark": rmark.astype(str), "PhonicsOutcome": rout}))
            out.phonics[y] = pl.concat(frames)

        # ---- KS1 teacher assessment (statutory to 2022/23) -------------------------------------------
        if y in NATIONAL_KS1_EXPECTED and y <= LAST_KS1_YEAR:
            idx = at(2)
            cols = {}
            for name, target in zip(("READ_TA", "WRIT_TA", "MAT_TA"), NATIONAL_KS1_EXPECTED[y]):
                s = latent(w, y, idx, 0.25)
                t = np.quantile(s, 1 - (target / 100 + off))
                cols[name] = _ta_codes(s - t, 1.1, ["PK1", "PK2", "PK3", "PK4"])
            s = latent(w, y, idx, 0.2)
            cols["SCI_TA"] = np.where(s >= np.quantile(s, 0.21), "EXS", "HNM")
            out.ks1[y] = _frame(idx, w, pop, cols)

        # ---- KS2: reading, maths, GPS scaled scores (or result codes), writing TA ----------------------
        if y in NATIONAL_KS2_RWM:
            idx = at(6)
            subj = {k: latent(w, y, idx, 0.1, 0.45) for k in ("READ", "MAT", "GPS", "WRIT")}
            sen = pop.sen[idx, w]
            t = np.quantile(np.minimum(np.minimum(subj["READ"], subj["MAT"]), subj["WRIT"]),
                            1 - (NATIONAL_KS2_RWM[y] / 100 + off))
            cols = {}
            for k in ("READ", "MAT", "GPS"):
                d = subj[k] - t
                score = np.clip(100 + np.floor(7 * d), 80, 120).astype(int).astype(str).astype(object)
                score[(d < -2.3) & (sen > 0)] = "B"  # working below the standard of the test
                score[rng.random(len(idx)) < 0.008] = "A"
                cols[f"{k}_SCORE"] = score.astype(str)
            cols["WRIT_TA"] = _ta_codes(subj["WRIT"] - t, 1.43, ["PK1", "PK2", "PK3", "PK4", "PK5", "PK6"])
            out.ks2[y] = _frame(idx, w, pop, cols)

        # ---- KS4: GCSE grades per subject entry (long, as exam-results exports are) ---------------------
        if y in NATIONAL_KS4_BASICS_5:
            idx = at(11)
            base = latent(w, y, idx, -0.05, 0.4)
            g_eng = np.maximum(base + 0.45 * rng.standard_normal(len(idx)), base + 0.45 * rng.standard_normal(len(idx)))
            g_mat = base + 0.45 * rng.standard_normal(len(idx))
            target = NATIONAL_KS4_BASICS_5[y] / 100 + off
            lo, hi = -5.0, 15.0
            for _ in range(40):  # shift so 5+ in English and maths hits the target
                mid = (lo + hi) / 2
                rate = np.mean((np.round(mid + 1.6 * g_eng) >= 5) & (np.round(mid + 1.6 * g_mat) >= 5))
                lo, hi = (lo, mid) if rate > target else (mid, hi)
            shift = (lo + hi) / 2
            special = np.isin(borough.establishments["phase"].to_numpy()[pop.summer_school[idx, w]], ["Special"])
            rows = []
            for code, name, pillar, share, diff in KS4_SUBJECTS:
                ability_s = base + 0.45 * rng.standard_normal(len(idx)) - diff
                entered = rng.random(len(idx)) < np.clip(share + 0.2 * (base if pillar in ("Languages",) else 0), 0, 1)
                if code in ("ENLA", "MATH"):
                    entered = rng.random(len(idx)) < share
                entered &= ~special | (rng.random(len(idx)) < 0.25)
                grade_n = np.round(shift + 1.6 * ability_s)
                grade = np.where(grade_n < 1, "U", np.clip(grade_n, 1, 9).astype(int).astype(str)).astype(object)
                grade[rng.random(len(idx)) < 0.004] = "X"
                e = np.flatnonzero(entered)
                rows.append(_frame(idx[e], w, pop, {"SubjectCode": np.full(len(e), code), "SubjectName": np.full(len(e), name),
                                                   "EBaccPillar": np.full(len(e), pillar), "Grade": grade[e].astype(str)}))
            out.ks4[y] = pl.concat(rows)

        # ---- pupil premium (January census, Reception to Year 11) ----------------------------------------
        spring = pop.census.filter((pl.col("year") == y) & (pl.col("term") == 1) & (pl.col("enrol_status") != "S")
                                   & (pl.col("nc") >= 0) & (pl.col("nc") <= 11))
        pidx = spring["pupil_index"].to_numpy()
        e6 = pop.ever6[pidx, y - pop.year0]
        cla = pop.cla[pidx, w]
        plac = pupils["plac"].to_numpy()[pidx]
        svc = pupils["service_child"].to_numpy()[pidx]
        keep = e6 | cla | plac | svc
        yn = lambda a: np.where(a, "Y", "N")  # noqa: E731
        out.pupil_premium[y] = _frame(pidx[keep], w, pop, {
            "Ever6FSM": yn(e6[keep]), "CLA": yn(cla[keep]), "PLAC": yn(plac[keep]), "ServiceChild": yn(svc[keep]),
        }, school=spring["school_index"].to_numpy()[keep])

        # ---- attendance, termly, per enrolment (not the subsidiary of a dual registration) ------------------
        year_rows = pop.census.filter((pl.col("year") == y) & (pl.col("enrol_status") != "S"))
        first_term = year_rows.group_by("pupil_index").agg(pl.col("term").min().alias("first_term"))
        year_rows = year_rows.join(first_term, on="pupil_index")
        aidx = year_rows["pupil_index"].to_numpy()
        sen = pop.sen[aidx, w]
        dis = pop.disadvantaged[aidx, w]
        nc = year_rows["nc"].to_numpy()
        mult = (1 + 0.7 * dis + 2.2 * grt[aidx] + 0.35 * (sen == 1) + 0.7 * (sen == 2)
                + 0.25 * (nc >= 7) + 0.25 * (nc >= 10) - 0.25 * ability[aidx].clip(-2, 2) * 0.5)
        pupil_noise = np.exp(0.85 * _pupil_normal(spec.seed, y, aidx) - 0.36)
        raw_rate = mult * pupil_noise
        scale = (NATIONAL_ABSENCE[y] + 0.6) / 100 / np.mean(np.clip(raw_rate * 0.05, 0, 0.95)) * 0.05
        rate = np.clip(raw_rate * scale * np.exp(0.25 * rng.standard_normal(len(aidx))), 0, 0.97)
        term = year_rows["term"].to_numpy()
        full = np.array(FULL_TERM_SESSIONS)[term]
        joined_mid = (term == year_rows["first_term"].to_numpy()) & (year_rows["entry_date"].dt.year().to_numpy() >= y) \
            & (rng.random(len(aidx)) < 0.6)
        possible = np.where(joined_mid, np.round(full * rng.uniform(0.3, 0.95, len(aidx))), full).astype(int)
        absent = rng.binomial(possible, rate)
        auth_share = np.clip(0.74 - 0.18 * dis - 0.3 * grt[aidx], 0.1, 0.95)
        authorised = rng.binomial(absent, auth_share)
        for t in range(3):
            if y == 2019 and t == 2:
                continue  # no attendance collection for summer 2020
            m = term == t
            out.attendance[(y, t)] = _frame(aidx[m], w, pop, {
                "PossibleSessions": possible[m], "SessionsAuthorisedAbsence": authorised[m],
                "SessionsUnauthorisedAbsence": (absent - authorised)[m],
            }, school=year_rows["school_index"].to_numpy()[m])
    return out


def _pupil_normal(seed: int, year: int, idx: np.ndarray) -> np.ndarray:
    """A pupil's absence propensity for a year, the same in each term (a stable habit)."""
    r = np.random.default_rng([seed, year, 17])
    return r.standard_normal(int(idx.max()) + 1 if len(idx) else 0)[idx]


def _ta_codes(d: np.ndarray, gds: float, pre_key: list[str]) -> np.ndarray:
    """Teacher assessment from distance to the expected threshold: GDS / EXS / WTS / pre-key stage."""
    out = np.where(d >= gds, "GDS", np.where(d >= 0, "EXS", np.where(d >= -1.3, "WTS", ""))).astype(object)
    low = out == ""
    band = np.clip(((d[low] + 3.5) / 2.2 * len(pre_key)).astype(int), 0, len(pre_key) - 1)
    out[low] = np.asarray(pre_key)[band]
    return out.astype(str)


def _frame(idx: np.ndarray, w: int, pop: Population, cols: dict, school: np.ndarray | None = None) -> pl.DataFrame:
    """Identity columns as MIS exports carry them, then the measure columns."""
    return pl.DataFrame({
        "pupil_index": idx,
        "school_index": pop.summer_school[idx, w] if school is None else school,
        **cols,
    })
