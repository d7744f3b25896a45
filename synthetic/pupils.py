"""The pupils of the synthetic borough and where they are at every census.

Vectorised over pupils (numpy), looping only over academic years and terms, so cost grows
linearly with the number of pupils. Pupils age through NC years, join (some after the October
census), move school mid-year, go on to sixth form or leave; Gypsy/Roma and Traveller pupils
are more mobile. Disadvantage (Ever 6 FSM, looked after, previously looked after), SEN and EAL
follow realistic shares and drive outcomes and absence downstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from ingest.identifiers import upn_check_letters
from synthetic.schools import Borough
from synthetic.spec import BoroughSpec

TERMS = ("autumn", "spring", "summer")

# (code, share, EAL probability, CBDS language codes when EAL); shares sum to 1.
ETHNICITIES = [
    ("WBRI", 0.815, 0.004, ["POL"]), ("WIRI", 0.003, 0.0, ["ENG"]), ("WIRT", 0.003, 0.0, ["ENG"]),
    ("WROM", 0.014, 0.95, ["SLO", "CZE", "RMI"]), ("WOTH", 0.028, 0.75, ["POL", "LIT", "RMN", "LTV"]),
    ("MWBC", 0.015, 0.02, ["ENG"]), ("MWBA", 0.005, 0.05, ["SHO"]), ("MWAS", 0.007, 0.1, ["URD"]),
    ("MOTH", 0.008, 0.1, ["ARA"]), ("AIND", 0.005, 0.5, ["PNJ", "GUJ"]), ("APKN", 0.052, 0.85, ["URD", "PNJM", "PNJ"]),
    ("ABAN", 0.003, 0.8, ["BNG"]), ("AOTH", 0.007, 0.7, ["ARA", "PRS", "KUR"]), ("BCRB", 0.002, 0.0, ["ENG"]),
    ("BAFR", 0.015, 0.6, ["SOM", "ARA", "TGR", "YOR"]), ("BOTH", 0.002, 0.3, ["SOM"]), ("CHNE", 0.003, 0.7, ["CHI"]),
    ("OOTH", 0.006, 0.7, ["ARA", "KUR"]), ("REFU", 0.006, 0.05, ["ENG"]), ("NOBT", 0.002, 0.05, ["NOT"]),
]
SEN_SUPPORT_NEEDS = (["SLCN", "SEMH", "MLD", "SPLD", "ASD", "OTH", "PD", "HI", "VI", "NSA", "SLD", "MSI"],
                     [0.23, 0.19, 0.20, 0.13, 0.07, 0.05, 0.03, 0.02, 0.01, 0.05, 0.015, 0.005])
EHC_NEEDS = (["ASD", "SEMH", "SLCN", "SLD", "MLD", "PMLD", "PD", "SPLD", "HI", "VI", "MSI", "OTH"],
             [0.30, 0.16, 0.16, 0.10, 0.09, 0.03, 0.04, 0.03, 0.02, 0.01, 0.005, 0.045])
BOY_NAMES = ["Oliver", "Jack", "Harry", "George", "Noah", "Leo", "Charlie", "Alfie", "Oscar", "Jacob", "Thomas", "Ethan"]
GIRL_NAMES = ["Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Grace", "Sophie", "Ella", "Freya", "Evie"]
WORLD_BOY = ["Muhammad", "Ibrahim", "Jakub", "Dávid", "Filip", "Yusuf", "Zoltán", "Omar", "José", "Matej"]
WORLD_GIRL = ["Aisha", "Zara", "Maryam", "Zuzana", "Noémi", "Amira", "Hana", "Zoë", "Renée", "Fatima"]
SURNAMES = ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Johnson", "Wright", "Walker", "Robinson", "Thompson",
            "Hall", "Wood", "Hughes", "Green", "Clarke", "Shaw", "Turner", "Hill", "Cooper", "Ward"]
WORLD_SURNAMES = ["Hussain", "Khan", "Ali", "Ahmed", "Horváth", "Baláž", "Kowalski", "Nowak", "Mohamed", "Rashid",
                  "Gábor", "Dvořák", "Sánchez", "Müller"]


@dataclass
class Population:
    pupils: pl.DataFrame        # one row per pupil (identity and fixed traits)
    census: pl.DataFrame        # one row per pupil per school per census term
    fsm: np.ndarray             # [pupil, year offset] eligible at the census of that year
    ever6: np.ndarray           # [pupil, year offset]
    year0: int                  # year offset 0 of fsm/ever6
    sen: np.ndarray             # [pupil, window year] 0 none, 1 SEN support, 2 EHC plan
    disadvantaged: np.ndarray   # [pupil, window year]
    cla: np.ndarray             # [pupil, window year]
    summer_school: np.ndarray   # [pupil, window year] school_index at summer census, -1 absent
    summer_lc: np.ndarray       # [pupil, window year] learning community index at summer census


def census_date(year: int, term: int) -> date:
    """Autumn: 1st Thursday of October; spring: 3rd Thursday of January; summer: 3rd Thursday of May."""
    if term == 0:
        d = date(year, 10, 1)
        return date(year, 10, 1 + (3 - d.weekday()) % 7)
    y, m = (year + 1, 1) if term == 1 else (year + 1, 5)
    d = date(y, m, 1)
    return date(y, m, 1 + (3 - d.weekday()) % 7 + 14)


def _quantile_threshold(score: np.ndarray, rate: float) -> float:
    return float(np.quantile(score, 1.0 - rate))


def simulate_pupils(spec: BoroughSpec, borough: Borough, rng: np.random.Generator) -> Population:
    years = spec.years
    est = borough.establishments
    lcs = borough.learning_communities
    n_lc = lcs.height
    lc_dep = lcs["deprivation"].to_numpy()

    # ---- cohorts (by year of Reception entry) --------------------------------------------
    cohorts = np.arange(spec.first_year - 13, spec.last_year + 2)
    base = spec.pupils_on_roll / 13.0
    n_orig = np.maximum(1, np.round(base * (1 + 0.03 * rng.standard_normal(len(cohorts))))).astype(int)
    n_join = np.round(n_orig * spec.yearly_leave_rate * 10).astype(int)
    cohort = np.concatenate([np.repeat(cohorts, n_orig), np.repeat(cohorts, n_join)])
    joiner = np.concatenate([np.zeros(n_orig.sum(), bool), np.ones(n_join.sum(), bool)])
    P = len(cohort)

    # ---- fixed traits ---------------------------------------------------------------------
    home_lc = rng.choice(n_lc, P, p=lcs["size_weight"].to_numpy())
    deprivation = lc_dep[home_lc] + rng.standard_normal(P)
    eth_codes = np.array([e[0] for e in ETHNICITIES])
    eth_p = np.array([e[1] for e in ETHNICITIES])
    minority = eth_codes != "WBRI"
    ethnicity = np.empty(P, dtype=object)
    for lc in range(n_lc):  # minority groups concentrate in more deprived communities; joiners more often
        for is_joiner in (False, True):
            idx = np.flatnonzero((home_lc == lc) & (joiner == is_joiner))
            w = eth_p * np.where(minority, np.exp(0.9 * lc_dep[lc]) * (2.2 if is_joiner else 1.0), 1.0)
            ethnicity[idx] = rng.choice(eth_codes, len(idx), p=w / w.sum())
    ethnicity = ethnicity.astype(str)
    grt = np.isin(ethnicity, ["WIRT", "WROM"])
    eal_p = dict((e[0], e[2]) for e in ETHNICITIES)
    eal = rng.random(P) < np.vectorize(eal_p.get)(ethnicity)
    language = np.full(P, "ENG", dtype=object)
    for code, _, _, langs in ETHNICITIES:
        idx = np.flatnonzero((ethnicity == code) & eal)
        language[idx] = rng.choice(langs, len(idx))
    not_eal = ~eal
    language[not_eal & (rng.random(P) < 0.03)] = "ENB"
    language[ethnicity == "NOBT"] = "NOT"
    eal = eal & (language != "NOT")
    language[eal & (rng.random(P) < 0.04)] = "OTB"
    sex = np.where(rng.random(P) < 0.512, "M", "F")
    ability = rng.standard_normal(P) - 0.20 * deprivation

    # SEN: a propensity ranked so shares are exact; low attainers more often on the register.
    sen_score = -0.6 * ability + 0.8 * rng.standard_normal(P) + np.where(sex == "M", 0.35, 0.0)
    sen_u = (np.argsort(np.argsort(-sen_score)) + 0.5) / P  # 0 = most likely SEN
    later = (cohort - cohorts.min()) / max(1, cohorts.max() - cohorts.min())  # ASD/SEMH grow over time
    need_k = _needs(SEN_SUPPORT_NEEDS, later, rng)
    need_e = _needs(EHC_NEEDS, later, rng)
    special = (sen_u < spec.ehc_plan_rate_first_year * 0.45) & np.isin(need_e, ["SLD", "PMLD", "ASD", "SEMH", "MLD"])
    cla_u = rng.random(P)
    plac = rng.random(P) < spec.plac_rate
    service = rng.random(P) < spec.service_child_rate
    nursery = rng.random(P) < spec.nursery_attendance_rate
    stays_sixth = rng.random(P) < np.clip(spec.sixth_form_stay_rate + 0.15 * ability, 0.05, 0.95)

    # ---- joining and leaving (year, term) --------------------------------------------------
    join_year = np.where(joiner, cohort + rng.integers(1, 12, P), np.where(nursery, cohort - 1, cohort))
    join_term = np.where(joiner, rng.integers(0, 3, P), 0)
    hazard = np.where(grt, spec.grt_yearly_leave_rate, spec.yearly_leave_rate)
    stay_years = rng.geometric(hazard) - 1 + np.where(joiner, 0, 1)
    leave_year = join_year + stay_years
    leave_term = np.where(leave_year > join_year, rng.integers(0, 3, P), 2)
    end_year = np.where(stays_sixth, cohort + 14, cohort + 12)  # leave after Y11 or Y13
    natural = leave_year >= end_year
    leave_year = np.where(natural, end_year, leave_year)
    leave_term = np.where(natural, 0, leave_term)

    # ---- identifiers, names, dates of birth ---------------------------------------------------
    upn, uln = _identifiers(spec, cohort, joiner, rng)
    dob = (np.array([np.datetime64(f"{c - 5}-09-01") for c in cohorts])[cohort - cohorts.min()]
           + rng.integers(0, 365, P).astype("timedelta64[D]"))
    world = ~np.isin(ethnicity, ["WBRI", "WIRI", "WIRT", "MWBC", "BCRB", "REFU"])
    forename = np.where(sex == "M",
                        np.where(world, rng.choice(WORLD_BOY, P), rng.choice(BOY_NAMES, P)),
                        np.where(world, rng.choice(WORLD_GIRL, P), rng.choice(GIRL_NAMES, P)))
    surname = np.where(world, rng.choice(WORLD_SURNAMES, P), rng.choice(SURNAMES, P))

    # ---- FSM eligibility per year and Ever 6 -------------------------------------------------
    year0 = spec.first_year - 6
    fsm_years = np.arange(year0, spec.last_year + 1)
    span = max(1, spec.last_year - spec.first_year)
    fsm_rate = np.interp(fsm_years, [spec.first_year, spec.first_year + span],
                         [spec.fsm_rate_first_year, spec.fsm_rate_last_year])
    fsm_score = deprivation[:, None] + 0.4 * rng.standard_normal((P, len(fsm_years)))
    thresholds = np.array([np.quantile(fsm_score[:, j], 1 - fsm_rate[j]) for j in range(len(fsm_years))])
    fsm = fsm_score > thresholds[None, :]
    csum = np.cumsum(np.pad(fsm, ((0, 0), (1, 0))), axis=1)
    ever6 = (csum[:, 1:] - csum[:, np.maximum(np.arange(len(fsm_years)) - 5, 0)]) > 0
    ever6 |= fsm

    # ---- school assignment, year by year ----------------------------------------------------------
    phase = est["phase"].to_numpy()
    low_nc, high_nc = est["low_nc"].to_numpy(), est["high_nc"].to_numpy()
    # index of each school's community (codes are not in sort order beyond LC99: no searchsorted)
    lc_index = {code: i for i, code in enumerate(lcs["learning_community_code"].to_list())}
    est_lc = np.array([lc_index[c] for c in est["learning_community_code"].to_list()])
    slot_first, slot_second = _primary_slots(est, est_lc, n_lc)
    n_slots = np.array([len(s) for s in slot_first])
    secondary_of = np.array([np.flatnonzero((phase == "Secondary") & (est_lc == lc))[0] for lc in range(n_lc)])
    secondaries = np.flatnonzero(phase == "Secondary")
    sixth_forms = np.flatnonzero((phase == "Secondary") & (high_nc == 13))
    specials = np.flatnonzero(phase == "Special")
    prus = np.flatnonzero(phase == "Pupil referral unit")
    nursery_of = np.array([(np.flatnonzero((phase == "Nursery") & (est_lc == lc)).tolist() or [-1])[0] for lc in range(n_lc)])
    slot = np.floor(rng.random(P) * n_slots[home_lc]).astype(int)
    special_school = specials[rng.integers(0, len(specials), P)] if len(specials) else np.full(P, -1)

    W = len(years)
    school_now = np.full(P, -1)
    entry = np.full(P, np.datetime64("NaT"), dtype="datetime64[D]")
    sen = np.zeros((P, W), np.int8)
    cla = np.zeros((P, W), bool)
    summer_school = np.full((P, W), -1)
    summer_lc = np.full((P, W), -1)
    rows = []
    for w, y in enumerate(years):
        nc = y - cohort
        yt = y * 3
        in_year = (nc >= -1) & (nc <= 13) & (yt + 2 >= join_year * 3 + join_term) & (yt < leave_year * 3 + leave_term)
        # SEN status this year: EHC plans grow over time; SEN support by age (peaks in juniors).
        t = (y - spec.first_year) / span
        p_ehc = spec.ehc_plan_rate_first_year + t * (spec.ehc_plan_rate_last_year - spec.ehc_plan_rate_first_year)
        p_k = spec.sen_support_rate * np.where(nc <= 0, 0.55, np.where(nc <= 6, 1.15, 0.95))
        sen[:, w] = np.where(sen_u < p_ehc, 2, np.where(sen_u < p_ehc + p_k, 1, 0)) * (nc >= 0)
        cla[:, w] = cla_u < spec.cla_rate * (0.6 + 0.8 * later) * np.clip(1 + 0.5 * deprivation, 0.3, 3)

        # who needs a (new) school: newcomers and phase changes
        cur = school_now
        fits = (cur >= 0) & (nc >= low_nc[np.maximum(cur, 0)]) & (nc <= high_nc[np.maximum(cur, 0)])
        new = in_year & ~fits
        spec_pupil = special & (nc >= 0) & (special_school >= 0)
        choose = np.full(P, -1)
        choose = np.where(spec_pupil, special_school, choose)
        lc_slot = _slot_lookup(slot_first, slot_second, home_lc, slot)
        nurs = nursery_of[home_lc]
        choose = np.where(~spec_pupil & (nc == -1), np.where((nurs >= 0) & (rng.random(P) < 0.5), nurs, lc_slot[0]), choose)
        choose = np.where(~spec_pupil & (nc >= 0) & (nc <= 2), lc_slot[0], choose)
        choose = np.where(~spec_pupil & (nc >= 3) & (nc <= 6), lc_slot[1], choose)
        own_sec = np.where(rng.random(P) < 0.9, secondary_of[home_lc], secondaries[rng.integers(0, len(secondaries), P)])
        choose = np.where(~spec_pupil & (nc >= 7) & (nc <= 11), own_sec, choose)
        sixth_form = sixth_forms[rng.integers(0, max(1, len(sixth_forms)), P)] if len(sixth_forms) else -1
        choose = np.where(~spec_pupil & (nc >= 12), sixth_form, choose)
        school_a = np.where(new, choose, cur)
        in_year &= school_a >= 0
        start = np.where(y == join_year, _join_dates(y, join_term, rng, P), np.datetime64(f"{y}-09-01"))
        entry = np.where(new, start, entry)

        # mid-year moves (more among Gypsy/Roma and Traveller families), within the phase
        move_p = np.where(grt, 4 * spec.mid_year_move_rate, spec.mid_year_move_rate)
        moving = in_year & ~new & ~spec_pupil & (nc >= 0) & (nc <= 10) & (rng.random(P) < move_p)
        move_term = np.where(moving, rng.integers(1, 3, P), 3)
        other_lc = np.where(rng.random(P) < 0.7, home_lc, rng.integers(0, n_lc, P))
        home_lc = np.where(moving, other_lc, home_lc)
        slot = np.where(moving, np.floor(rng.random(P) * n_slots[home_lc]).astype(int), slot)
        lc_slot = _slot_lookup(slot_first, slot_second, home_lc, slot)
        moved_to = np.where(nc <= 2, lc_slot[0], np.where(nc <= 6, lc_slot[1], secondary_of[home_lc]))
        school_b = np.where(moving & (moved_to != school_a), moved_to, school_a)
        move_term = np.where(school_b != school_a, move_term, 3)
        move_date = np.where(move_term == 1, np.datetime64(f"{y}-11-15"), np.datetime64(f"{y + 1}-02-20")) \
            + rng.integers(0, 30, P).astype("timedelta64[D]")

        # dual registration: a few Key Stage 3/4 pupils with SEMH needs also attend the PRU
        dual = (in_year & (nc >= 7) & (nc <= 11) & (need_k == "SEMH") & (sen[:, w] == 1)
                & (rng.random(P) < 0.12) & (len(prus) > 0))
        pru = prus[rng.integers(0, len(prus), P)] if len(prus) else np.full(P, -1)

        for term in range(3):
            present = in_year & (yt + term >= join_year * 3 + join_term) & (yt + term < leave_year * 3 + leave_term)
            idx = np.flatnonzero(present)
            school = np.where(term >= move_term, school_b, school_a)[idx]
            ent = np.where(term >= move_term, move_date, entry)[idx]
            status = np.where(dual[idx], "S", "C")
            rows.append(_census_rows(y, term, idx, school, status, ent, nc, fsm[:, y - year0], sen[:, w], need_k, need_e))
            d_idx = idx[dual[idx]]
            if len(d_idx):
                rows.append(_census_rows(y, term, d_idx, pru[d_idx], np.full(len(d_idx), "M"),
                                         np.full(len(d_idx), np.datetime64(f"{y}-09-15")), nc,
                                         fsm[:, y - year0], sen[:, w], need_k, need_e))
            if term == 2:
                summer_school[idx, w] = school
                summer_lc[idx, w] = est_lc[school]
        entry = np.where(move_term < 3, move_date, entry)
        school_now = np.where(in_year, school_b, np.where((yt + 3 > leave_year * 3 + leave_term), -1, school_now))

    census = pl.concat(rows)
    window_ever6 = ever6[:, spec.first_year - year0:]
    disadvantaged = window_ever6 | cla | plac[:, None]
    pupils = pl.DataFrame({
        "pupil_index": np.arange(P), "cohort": cohort, "upn": upn, "uln": uln, "forename": forename,
        "surname": surname, "dob": dob, "sex": sex, "ethnicity": ethnicity, "first_language": language.astype(str),
        "eal": eal, "grt": grt, "ability": ability, "deprivation": deprivation, "sen_need_support": need_k,
        "sen_need_ehc": need_e, "plac": plac, "service_child": service, "joiner": joiner,
    })
    return Population(pupils=pupils, census=census, fsm=fsm, ever6=ever6, year0=year0, sen=sen,
                      disadvantaged=disadvantaged, cla=cla, summer_school=summer_school, summer_lc=summer_lc)


def _needs(dist, later, rng):
    codes, p = dist
    p = np.asarray(p, float)
    grow = np.isin(codes, ["ASD", "SEMH"])
    u = rng.random(len(later))
    out = np.empty(len(later), dtype=object)
    # two distributions, earlier and later cohorts; each pupil picks by position in time
    early = p * np.where(grow, 0.8, 1.06)
    late = p * np.where(grow, 1.3, 0.9)
    for dist_p, mask in ((early / early.sum(), later < 0.5), (late / late.sum(), later >= 0.5)):
        cum = np.cumsum(dist_p)
        out[mask] = np.asarray(codes)[np.minimum(np.searchsorted(cum, u[mask]), len(codes) - 1)]
    return out.astype(str)


def _identifiers(spec: BoroughSpec, cohort, joiner, rng):
    P = len(cohort)
    la = (np.where(joiner & (rng.random(P) < 0.8), rng.choice(list(spec.joiner_la_codes), P), spec.la_code)
          if spec.joiner_la_codes else np.full(P, spec.la_code))
    # unique within (la, year of issue) by a running number: estab 2001.., serial 000-999
    order = np.lexsort((rng.random(P), cohort, la))
    key = la * 10_000 + cohort
    sorted_key = key[order]
    first = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
    run = np.arange(P) - np.repeat(first, np.diff(np.r_[first, P]))
    rank = np.empty(P, int)
    rank[order] = run
    estab = 2001 + rank // 1000
    serial = rank % 1000
    body = la.astype(np.int64) * 10**9 + estab * 10**5 + ((cohort - 4) % 100) * 1000 + serial
    letters = upn_check_letters(body)
    upn = np.char.add(letters.astype(str), np.char.zfill(body.astype(str), 12))
    # ULN: 9 random digits then the digit that makes sum(d*w) mod 11 == 10 (redraw when it would be 10)
    digits = rng.integers(0, 10, (P, 9))
    digits[:, 0] = rng.integers(1, 10, P)
    for _ in range(20):
        s = (digits * np.arange(10, 1, -1)).sum(axis=1)
        last = (10 - s) % 11
        bad = last == 10
        if not bad.any():
            break
        digits[bad, 8] = rng.integers(0, 10, bad.sum())
    digits = np.column_stack([digits, last])
    uln = np.array(["".join(map(str, r)) for r in digits]) if P < 50_000 else \
        (digits * (10 ** np.arange(9, -1, -1))).sum(axis=1).astype(str)
    return upn, uln


def _primary_slots(est: pl.DataFrame, est_lc, n_lc):
    """A 'slot' is one primary-phase route: a primary school, or an infant school and its junior."""
    phase = est["phase"].to_numpy()
    first, second = [], []
    for lc in range(n_lc):
        f, s = [], []
        idx = np.flatnonzero(est_lc == lc)
        for i in idx:
            if phase[i] == "Primary":
                f.append(i), s.append(i)
            elif phase[i] == "Infant":
                j = i + 1  # juniors are added right after their infant school
                f.append(i), s.append(j)
        first.append(np.array(f)), second.append(np.array(s))
    return first, second


def _slot_lookup(first, second, lc, slot):
    a = np.empty(len(lc), int)
    b = np.empty(len(lc), int)
    for k in range(len(first)):
        m = lc == k
        s = np.minimum(slot[m], len(first[k]) - 1)
        a[m], b[m] = first[k][s], second[k][s]
    return a, b


def _join_dates(y, join_term, rng, P):
    """Joining dates: in autumn some arrive after the October census (first seen in spring)."""
    # autumn joiners arrive before the October census; the others between censuses
    off = np.where(join_term == 0, rng.integers(0, 25, P), rng.integers(0, 40, P)).astype("timedelta64[D]")
    return np.where(join_term == 0, np.datetime64(f"{y}-09-03"),
                    np.where(join_term == 1, np.datetime64(f"{y}-10-10"), np.datetime64(f"{y + 1}-01-25"))) + off


def _census_rows(y, term, idx, school, status, entry, nc, fsm_y, sen_w, need_k, need_e):
    s = sen_w[idx]
    return pl.DataFrame({
        "year": np.full(len(idx), y, np.int32), "term": np.full(len(idx), term, np.int8),
        "pupil_index": idx, "school_index": school, "enrol_status": status, "entry_date": entry,
        "nc": nc[idx].astype(np.int8), "fsm": fsm_y[idx], "sen": s,
        "need": np.where(s == 2, need_e[idx], np.where(s == 1, need_k[idx], "")),
    })
