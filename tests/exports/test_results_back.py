"""Vendor delivery, the way back: a vendor's results file keyed by the export's
`uh_key` is posted to the right persons; a seed's key is refused as a decoy; a key
of another committee's export or a made-up one is refused like an unknown id."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.access.factories import user_with
from tests.exports.test_requests import approved_export, county_list, people, read_csv
from tests.field.results_factory import csv_text, quarantine_of, run_import, upload
from unionhall.exports import services
from unionhall.field import services as field_services
from unionhall.field.lists import ListDefinition
from unionhall.field.models import ContactUpload
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


def test_results_keyed_by_the_export_key_post_to_the_persons_and_seeds_are_refused(
        field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = county_list(field_wh, tree, p["organizer"], name="Mail county")
    er = approved_export(field_wh, saved, p["organizer"], p["dm"])
    rows = read_csv(services.export_dir(er) / er.file_name)
    cur = field_wh.cursor()
    key_person = dict(cur.execute("SELECT export_key, person_id FROM export_person WHERE export_id = ?",
                                  [er.pk]).fetchall())
    seed_keys = {k for (k,) in cur.execute("SELECT export_key FROM export_seed WHERE export_id = ?",
                                           [er.pk]).fetchall()}
    real = [r["uh_key"] for r in rows if r["uh_key"] in key_person][:6]
    seed = next(r["uh_key"] for r in rows if r["uh_key"] in seed_keys)
    # Another committee's export of the same people: its keys mean nothing to this upload.
    elsewhere_dm = user_with("data_manager", tree["state_federation"], f"fed2-{er.pk}")
    fed_org = user_with("organizer", tree["state_federation"], f"fedorg-{er.pk}")
    fed_list = field_services.saved_list_create(
        user=fed_org, name="Fed county", committee=tree["state_federation"], warehouse=field_wh,
        definition=ListDefinition(counties=(tree["counties"][0],)))
    fed_er = approved_export(field_wh, fed_list, fed_org, elsewhere_dm)
    fed_key = next(r["uh_key"] for r in read_csv(services.export_dir(fed_er) / fed_er.file_name)
                   if r["uh_key"] not in key_person and r["uh_key"] not in seed_keys)

    day = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    lines = [[k.lower() if i == 0 else k, "NH" if i % 2 else "CV", day] for i, k in enumerate(real)]
    lines += [[seed, "CV", day], ["ZZZZZZZZZZZZ", "NH", day], [fed_key, "NH", day], ["12AB", "NH", day]]
    text = csv_text(["UnionHallID", "Result", "Date"], lines)
    up = upload(user=p["dm"], committee=tree["clc"], data=text.encode(), vendor="Acme Mail", channel="mail")
    job = run_import(field_wh, up, user=p["dm"])
    assert job.status == "succeeded", job.error
    up = ContactUpload.objects.get(pk=up.pk)
    assert (up.rows_read, up.rows_posted, up.rows_quarantined) == (10, 6, 4)

    posted = dict(cur.execute("SELECT row_number, person_id FROM contact_history WHERE upload_id = ?",
                              [up.pk]).fetchall())
    assert posted == {i + 2: key_person[k] for i, k in enumerate(real)}  # a lower-case key reads the same
    q = quarantine_of(field_wh, up.pk)
    assert set(q) == {8, 9, 10, 11}
    assert q[8][0] == "seed_record" and q[8][1] == "UnionHallID" and er.reference in q[8][2]
    assert q[9][0] == q[10][0] == "unknown_person"  # made up; another committee's export
    assert seed not in q[9][2] and "export key" in q[10][2]
    assert q[11][0] == "bad_person_id" and "export key" in q[11][2]
