"""Issue 6, must-show 1: links against the synthetic ground truth (fixed seed, default
mess rates): member -> voter precision >= 0.995, recall >= 0.98; dual-member pairs
precision >= 0.99, recall >= 0.97."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.identity.conftest import run
from tests.identity.truth_eval import evaluate
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


def test_links_and_dual_members_against_truth(imported: Callable[..., Warehouse], synth_state: Path) -> None:
    wh = imported()
    result = run(wh, "identity.match")
    figures = evaluate(wh, synth_state)
    print("identity accuracy:", figures, "counts:", result)
    assert figures["links_true"] > 3000 and figures["dual_pairs_true"] > 100
    assert figures["link_precision"] >= 0.995, figures
    assert figures["link_recall"] >= 0.98, figures
    assert figures["dual_precision"] >= 0.99, figures
    assert figures["dual_recall"] >= 0.97, figures
    assert result["links"] == figures["links_predicted"]
    assert result["dual_members"] > 0 and result["persons"] > 0
    # committee scope is decided on the memberships identity keeps on the person
    cur = wh.cursor()
    mismatched = cur.execute(
        """
        WITH truth AS (
            SELECT r.person_id, list_sort(list_distinct(list(r.source_name))) AS sources
            FROM identity_record r JOIN member_record m ON m.source = r.source_name AND m.member_key = r.record_key
            WHERE m.status = 'active' GROUP BY r.person_id)
        SELECT count(*) FROM truth t JOIN person p USING (person_id) WHERE p.member_sources <> t.sources
        """
    ).fetchone()
    assert mismatched == (0,)
    duals = cur.execute("SELECT count(*) FROM person WHERE len(member_sources) = 2").fetchone()
    assert duals is not None and duals[0] == result["dual_members"]
