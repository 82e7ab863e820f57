"""An export from ask to leak in real Chromium (issue 12): a CLC organizer asks for a
CSV of a saved list for the council's mail house; the CLC's data manager approves it
(a worker thread runs the job, as under `unionhall serve`); the mail house's user
downloads it from Vendor deliveries; a part of the file, re-sorted with columns
dropped, is traced back to the export on the trace page. The pages are saved as the
README's screenshots (docs/img/exports-*.png)."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from typing import Any

import pytest

from tests.access.factories import user_with
from tests.browser.conftest import browser, log_in, off_loop, totp_device, until  # noqa: F401  (the browser fixture)
from tests.conftest import ARTIFACTS, REPO
from unionhall.warehouse import Warehouse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-passw0rd!"
IMG = REPO / "docs" / "img"


@pytest.fixture
def desk(field_wh: Warehouse, tree: dict[str, Any]) -> Iterator[dict[str, Any]]:
    from unionhall.exports.models import Vendor
    from unionhall.field.lists import ListDefinition
    from unionhall.field.services import saved_list_create
    from unionhall.jobs.runner import WorkerPool

    clc = tree["clc"]
    organizer = user_with("organizer", clc, "clc-organizer")
    manager = user_with("data_manager", clc, "clc-data")
    mailer = user_with("vendor", clc, "mailhouse")
    vendor = Vendor.objects.create(name="Piedmont Mail House", committee=clc, contact_email="jobs@example.org")
    vendor.users.add(mailer)
    saved = saved_list_create(user=organizer, name="Eastside members GOTV mail", committee=clc,
                              definition=ListDefinition(counties=(tree["counties"][0],)), warehouse=field_wh)
    pool = WorkerPool(1, poll_seconds=0.1)
    pool.start()
    yield {"organizer": organizer, "list": saved, "vendor": vendor,
           "devices": {u.get_username(): totp_device(u) for u in (organizer, manager, mailer)}}
    pool.stop()



def _shot(page: Any, name: str) -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG / f"exports-{name}.png"), full_page=True)
    assert (IMG / f"exports-{name}.png").stat().st_size > 15_000


def test_ask_approve_deliver_and_trace_in_chromium(live_server: Any, desk: dict[str, Any], browser: Any,  # noqa: F811
                                                   tmp_path: Any) -> None:
    from unionhall.exports.models import ExportRequest

    base, saved, devices = live_server.url, desk["list"], desk["devices"]
    ARTIFACTS.mkdir(exist_ok=True)

    # 1. The organizer asks, from the list page.
    org = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(org, base, "clc-organizer", PASSWORD, devices["clc-organizer"], then=f"/field/lists/{saved.pk}/")
    org.goto(f"{base}/field/lists/{saved.pk}/")
    org.click("text=Ask for an export")
    org.wait_for_selector("h1:has-text('Ask for an export')")
    org.check("input[name=fields][value=email]")
    org.select_option("#vendor", label="Piedmont Mail House")
    org.fill("#purpose", "GOTV mail piece, two drops, Eastside members")
    _shot(org, "request")
    org.click("form.card button[type=submit]")
    org.wait_for_selector("text=Waiting for approval")
    er = off_loop(lambda: ExportRequest.objects.select_related("vendor").get(saved_list=saved))
    assert er.status == "pending" and er.vendor_id == desk["vendor"].pk and "email" in er.fields
    assert org.locator("button[value=approve]").count() == 0  # never one's own request

    # 2. The data manager approves; the job writes the file.
    dm = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(dm, base, "clc-data", PASSWORD, devices["clc-data"], then="/exports/")
    dm.goto(f"{base}/exports/")
    dm.wait_for_selector("h2:has-text('Waiting for your decision')")
    dm.click(f"a:has-text('{er.reference}')")
    dm.click("button[value=approve]")
    until(lambda: off_loop(lambda: ExportRequest.objects.get(pk=er.pk).status) == "ready")
    dm.goto(f"{base}/exports/{er.pk}/")
    dm.wait_for_selector("text=Ready")
    er = off_loop(lambda: ExportRequest.objects.get(pk=er.pk))
    assert dm.locator("text=Decided by").count() == 1 and f"{er.persons}" in dm.inner_text("dl.figures")
    _shot(dm, "approved")

    # 3. The mail house downloads it from its deliveries, and sees nothing else.
    mail = browser.new_page(viewport={"width": 1280, "height": 800})
    log_in(mail, base, "mailhouse", PASSWORD, devices["mailhouse"], then="/exports/deliveries/")
    mail.goto(f"{base}/exports/deliveries/")
    mail.wait_for_selector(f"a:has-text('{er.reference}')")
    _shot(mail, "deliveries")
    with mail.expect_download() as got:
        mail.goto(f"{base}/exports/{er.pk}/")
        mail.click(f"a:has-text('Download {er.file_name}')")
    path = tmp_path / er.file_name
    got.value.save_as(str(path))
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert len(rows) == er.persons + er.seeds and list(rows[0])[:2] == ["uh_key", "first_name"]
    assert mail.request.get(f"{base}/field/lists/{saved.pk}/").status in (403, 404)

    # 4. A part of it turns up elsewhere: 30% of the rows, re-sorted, four columns.
    random.Random(7).shuffle(rows)
    keep = ["last_name", "addr_line1", "zip5", "phone"]
    found = tmp_path / "found.csv"
    with found.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=keep, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows[: len(rows) * 3 // 10])
    dm.goto(f"{base}/exports/trace/")
    dm.set_input_files("input[type=file]", str(found))
    dm.click("form.card button[type=submit]")
    dm.wait_for_selector("section.card h2")
    text = dm.inner_text("main")
    assert er.reference in text and "clc-organizer" in text and "clc-data" in text and "Piedmont Mail House" in text
    _shot(dm, "trace")
