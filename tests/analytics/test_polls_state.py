"""Polls over a synthetic state: a poll drawn with planted nonresponse bias (the young
under-respond), raked as an analyst to the registered voters' margins read through the
gateway, lands near the known truth; toplines and crosstabs of the stored weights
equal samplics; a failed raking keeps the previous weights; member-file margins."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from tests.access.factories import user_with
from unionhall.analytics.poll_synth import poll_file_write
from unionhall.analytics.polls import poll_frame, poll_import, poll_margins, poll_rake, poll_topline
from unionhall.errors import UserError
from unionhall.warehouse import Warehouse

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # samplics is archived: its import warns
    from samplics.estimation import TaylorEstimator
    from samplics.utils.types import PopParam

pytestmark = pytest.mark.django_db
BY = ["county", "sex", "age_band", "party"]


def voters(wh: Warehouse) -> pl.DataFrame:
    frame = pl.from_arrow(wh.cursor().execute(
        "SELECT county, sex, age, party, member_sources FROM person WHERE reg_status IN ('A', 'I')").fetch_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


@pytest.fixture
def polled(field_wh: Warehouse, tree: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "contract-poll.csv"
    truth = poll_file_write(path, voters(field_wh), n=700, seed=4, bad_rows=3)
    analyst = user_with("analyst", tree["state_federation"], "fed-analyst")
    out = poll_import(user=analyst, committee=tree["state_federation"], path=path, name="Contract poll",
                      warehouse=field_wh)
    return {"wh": field_wh, "tree": tree, "truth": truth, "analyst": analyst, "import": out, "poll": out.poll}


def test_the_synthetic_file_imports_with_its_bad_rows_quarantined(polled: dict[str, Any]) -> None:
    out = polled["import"]
    assert (out.rows_read, out.respondents, out.rejected) == (703, 700, 3)
    assert out.by_code == {"duplicate_respondent": 1, "bad_age": 1, "bad_category": 1}


def test_weighting_to_the_voter_file_recovers_the_truth(polled: dict[str, Any]) -> None:
    wh, poll, analyst, truth = polled["wh"], polled["poll"], polled["analyst"], polled["truth"]
    report = poll_rake(user=analyst, poll=poll, by=BY, universe="voters", warehouse=wh)
    assert report["converged"] and report["max_margin_error"] < 1e-3 and report["deff"] > 1.1
    # The targets are the registered voters' shares, through the analyst's scope.
    for m in report["margins"]:
        assert m["target"] == pytest.approx(truth.margins[m["variable"]][m["category"]], abs=0.01), m
        assert abs(m["achieved"] - m["target"]) < 1e-3
    young = next(m for m in report["margins"] if m["category"] == "18-29")
    assert young["unweighted"] < young["target"] / 2  # the planted bias: the young under-respond
    poll.refresh_from_db()
    assert poll.detail["weighting"]["by"] == BY
    q = "Q1 Support the contract"
    [raw] = poll_topline(user=analyst, poll=poll, questions=[q], weighted=False, warehouse=wh)
    [weighted] = poll_topline(user=analyst, poll=poll, questions=[q], warehouse=wh)
    want = truth.truth[q]["Support"]
    r, w = raw.tables[0].share("Support"), weighted.tables[0].share("Support")
    assert r is not None and w is not None
    assert abs(w.share - want) < abs(r.share - want) and abs(w.share - want) < 2 * w.se
    assert w.moe > r.moe  # weighting costs precision: the design effect
    assert weighted.tables[0].n == 700 - raw.blank and weighted.deff == pytest.approx(report["deff"], rel=0.05)


def test_toplines_and_crosstabs_of_the_stored_weights_equal_samplics(polled: dict[str, Any]) -> None:
    wh, poll, analyst = polled["wh"], polled["poll"], polled["analyst"]
    poll_rake(user=analyst, poll=poll, by=BY, warehouse=wh)
    frame = poll_frame(poll=poll, warehouse=wh)
    q = "Q2 Would strike"
    keep = frame.filter(pl.col(q).is_not_null() & pl.col("age_band").is_not_null())
    assert keep.height == frame.filter(pl.col(q).is_not_null()).height
    answered = np.where(frame.get_column(q).is_null().to_numpy(), "skip", "answered")
    est = TaylorEstimator(PopParam.prop)
    est.estimate(y=frame.get_column(q).fill_null("skip").to_numpy(), samp_weight=frame.get_column("weight").to_numpy(),
                 domain=answered)
    [top] = poll_topline(user=analyst, poll=poll, questions=[q], warehouse=wh)
    total = sum(est.point_est["answered"][c] for c in ("Yes", "No"))
    for s in top.tables[0].shares:
        assert abs(s.share - est.point_est["answered"][s.category] / total) < 1e-9
    # Every respondent answered the crosstab's row variable: the rows are samplics' domains
    # over those who answered the question.
    sub = frame.filter(pl.col(q).is_not_null())
    est = TaylorEstimator(PopParam.prop)
    est.estimate(y=sub.get_column(q).to_numpy(), samp_weight=sub.get_column("weight").to_numpy(),
                 domain=sub.get_column("age_band").to_numpy())
    [cross] = poll_topline(user=analyst, poll=poll, questions=[q], by="age_band", warehouse=wh)
    assert [t.domain for t in cross.tables] == ["18-29", "30-44", "45-64", "65+"]
    diffs = [abs(s.share - est.point_est[t.domain][s.category]) for t in cross.tables for s in t.shares]
    assert max(diffs) < 1e-9
    # Standard errors differ only by the non-answerers' zero scores (n/(n-1) over more units):
    # recomputed on the answering subset alone they equal samplics.
    from unionhall.analytics.weighting import proportions

    rows = proportions(sub.get_column(q).to_numpy(), sub.get_column("weight").to_numpy(),
                       domain=sub.get_column("age_band").to_numpy())
    ses = [abs(s.se - est.stderror[t.domain][s.category]) for t in rows for s in t.shares]
    assert max(ses) < 1e-9


def test_a_raking_that_fails_keeps_the_previous_weights(polled: dict[str, Any]) -> None:
    wh, poll, analyst = polled["wh"], polled["poll"], polled["analyst"]
    poll_rake(user=analyst, poll=poll, by=["sex", "age_band"], warehouse=wh)
    before = poll_frame(poll=poll, warehouse=wh).get_column("weight").to_list()
    with pytest.raises(UserError, match=r"sex: no respondent in 'X'.*collapse"):
        poll_rake(user=analyst, poll=poll, by=["sex"], margins={"sex": {"F": 0.5, "M": 0.4, "X": 0.1}}, warehouse=wh)
    with pytest.raises(UserError, match="has no member column|universe 'everyone'"):
        poll_rake(user=analyst, poll=poll, by=["sex"], universe="everyone", warehouse=wh)
    with pytest.raises(UserError, match="did not converge in 2 iterations"):
        poll_rake(user=analyst, poll=poll, by=BY, max_iter=2, tol=1e-9, warehouse=wh)
    assert poll_frame(poll=poll, warehouse=wh).get_column("weight").to_list() == before
    poll.refresh_from_db()
    assert poll.detail["weighting"]["by"] == ["sex", "age_band"]


def test_margins_of_an_affiliates_members(polled: dict[str, Any]) -> None:
    wh, tree = polled["wh"], polled["tree"]
    source = tree["sources"][0]
    manager = user_with("data_manager", tree["affiliate"], "affiliate-dm")
    m = poll_margins(user=manager, variables=["sex", "age_band"], universe=f"members:{source}", warehouse=wh)
    want = wh.cursor().execute("SELECT count(*) FROM person WHERE list_contains(member_sources, ?)",
                               [source]).fetchone()
    assert want is not None and m.total == want[0]
    assert sum(m.counts["sex"].values()) + m.unknown["sex"] == m.total
    # Analysts see no small cells: a margin with one would name a handful of people.
    analyst = polled["analyst"]
    with pytest.raises(UserError, match="fewer than 10 persons.*analysts see no cells that small"):
        poll_margins(user=analyst, variables=["age_band"], universe=f"members:{source}", warehouse=wh)
