"""Imputed race/ethnicity (BISG) and age bands: equal to surgeo's own models on the same
names and ZIP codes, judged against what people said, within the user's scope."""

from __future__ import annotations

import uuid
import warnings
from typing import Any

import numpy as np
import pytest

from tests.access.factories import user_with
from unionhall.access.gateway import person_base, person_rows
from unionhall.analytics.impute import RACES, age_band, bisg, normalize_surname, year_in
from unionhall.jobs.runner import job_run, job_submit
from unionhall.warehouse import Warehouse

NAMES = ["Smith", "GARCIA", "nguyen", "Washington", "O'Brien Jr", "Peña", "Zzyzxq", "Johnson III", None, "Lee"]
ZIPS = ["27701", "28202", "27513", "27610", "28801", "27006", "27701", "99999", "27601", None]


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / rows.sum(axis=1, keepdims=True)


def test_bisg_equals_surgeo() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandas as pd
        import surgeo

        ref = surgeo.SurgeoModel().get_probabilities(pd.Series(NAMES), pd.Series(ZIPS))
        sur = surgeo.SurnameModel().get_probabilities(pd.Series(NAMES))
        geo = surgeo.GeocodeModel().get_probabilities(pd.Series(ZIPS))
    ours = bisg(NAMES, ZIPS)
    both = ours.method == "bisg_zip"
    assert both.sum() >= 5
    want = ref[list(RACES)].to_numpy(dtype=float)
    assert np.nanmax(np.abs(ours.probs[both] - want[both])) < 1e-9
    # Where surgeo's BISG has no answer, ours falls back, each fallback equal to surgeo's
    # surname-only or geography-only model.
    assert np.isnan(want[~both]).any(axis=1).all()
    # (surgeo returns the rounded Census rows as they are; ours sum to one.)
    s_only = ours.method == "surname_only"
    assert s_only.any()
    assert np.nanmax(np.abs(ours.probs[s_only] - _unit(sur[list(RACES)].to_numpy(dtype=float)[s_only]))) < 1e-9
    z_only = ours.method == "zip_only"
    assert z_only.any()
    assert np.nanmax(np.abs(ours.probs[z_only] - _unit(geo[list(RACES)].to_numpy(dtype=float)[z_only]))) < 1e-9
    assert (ours.method[np.array([n is None and z is None for n, z in zip(NAMES, ZIPS, strict=True)])]
            == "none").all()
    known = ~np.isnan(ours.probs).any(axis=1)
    assert np.allclose(ours.probs[known].sum(axis=1), 1.0)


def test_name_and_date_helpers() -> None:
    assert normalize_surname("o'brien jr.") == "OBRIEN"
    assert normalize_surname(" Van Der Berg ") == "VANDERBERG"
    assert year_in("03/1975") == 1975 and year_in("1975-03") == 1975 and year_in("03/15") is None
    assert year_in("12345") is None
    assert age_band(np.array([18, 29.9, 30, 44, 45, 64, 65, 90, np.nan])).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, -1]


def _impute(wh: Warehouse, user: Any) -> dict[str, Any]:
    job = job_run(job=job_submit(kind="analytics.impute", params={}, user=user), warehouse=wh)
    assert job.status == "succeeded", job.error
    return dict(job.result)


@pytest.mark.django_db
def test_imputation_over_the_state(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    dm = user_with("data_manager", tree["state_federation"], f"fed-dm-{uuid.uuid4().hex[:5]}")
    report = _impute(field_wh, dm)
    print(report)
    cur = field_wh.cursor()
    n, bad_max, bad_sum = cur.execute(
        "SELECT count(*), count(*) FILTER (WHERE abs(race_probability - list_max(race_probs)) > 1e-12), "
        "count(*) FILTER (WHERE abs(list_sum(race_probs) - 1) > 1e-9) FROM person_imputed "
        "WHERE race IS NOT NULL").fetchone()
    assert n > 0 and bad_max == 0 and bad_sum == 0
    assert report["race_by_method"].get("bisg_zip", 0) > 0
    # Judged against self-reported race on the voter file: better than a coin, and not far
    # from the surname alone (the synthetic state draws race from the surname only).
    assert report["race_checked"] > 100
    assert report["race_agreement_bisg"] > 0.5
    # Everyone imputed is in scope; nobody with an age got a band.
    scope = set(person_base(user=dm, warehouse=field_wh).person_id.to_pyarrow().to_pylist())
    imputed = {r[0] for r in cur.execute("SELECT person_id FROM person_imputed").fetchall()}
    assert imputed <= scope
    p = person_base(user=dm, warehouse=field_wh)
    aged = set(p.filter(p.age.notnull()).person_id.to_pyarrow().to_pylist())
    banded_ids = {r[0] for r in cur.execute("SELECT person_id FROM person_imputed WHERE age_band IS NOT NULL")
                  .fetchall()}
    assert banded_ids and not banded_ids & aged
    if report["age_heldout"]:
        assert report["age_accuracy"] > report["age_baseline_accuracy"]
    banded = cur.execute("SELECT count(*), min(age_probability), max(age_probability) FROM person_imputed "
                         "WHERE age_band IS NOT NULL").fetchone()
    assert banded[0] == sum(report["age_imputed_by_method"].values())
    if banded[0]:
        assert 0.25 <= banded[1] <= banded[2] <= 1.0


@pytest.mark.django_db
def test_an_analyst_imputes_without_addresses_and_sees_no_more(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    analyst = user_with("analyst", tree["clc"], f"clc-an-{uuid.uuid4().hex[:5]}")
    report = _impute(field_wh, analyst)
    # An analyst sees no addresses: the ZIP is masked, so only surnames speak.
    assert report["race_by_method"].get("bisg_zip", 0) == 0
    assert report["race_by_method"].get("surname_only", 0) > 0
    scope = set(person_base(user=analyst, warehouse=field_wh).person_id.to_pyarrow().to_pylist())
    imputed = {r[0] for r in field_wh.cursor().execute("SELECT person_id FROM person_imputed").fetchall()}
    assert imputed <= scope and len(imputed) > 0
    # Read back through the gateway by an organizer of an affiliate: only its members.
    organizer = user_with("organizer", tree["affiliate"], f"aff-org-{uuid.uuid4().hex[:5]}")
    seen = set(person_rows(user=organizer, table="person_imputed", warehouse=field_wh)
               .person_id.to_pyarrow().to_pylist())
    theirs = set(person_base(user=organizer, warehouse=field_wh).person_id.to_pyarrow().to_pylist())
    assert seen <= theirs
