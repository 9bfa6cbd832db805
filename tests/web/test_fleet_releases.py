"""The fleet page names the till release on offer and marks the tills running older ones."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from web_helpers import sign_in

from cloud_oms.models.core import Store, Terminal
from cloud_oms.models.releases import Release
from retail.ids import utcnow


def test_fleet_shows_the_offered_release_and_the_tills_behind_it(web, page):
    sign_in(page, web.url)
    page.goto(web.url + "/fleet")
    expect(page.locator("h1")).to_contain_text("no release offered")

    now = utcnow()
    with web.bind():
        store = Store.get(Store.code == "JKT1")
        for code, version in (("T31", "1.4.2"), ("T32", "1.5.0"), ("T33", "dev-build")):
            Terminal.create(
                store=store.id, code=code, name=f"Kasir {code}", version=version,
                enrolled_at=now - timedelta(days=1), last_seen_at=now,
            )  # fmt: skip
        for version, active in (("1.4.2", True), ("1.5.0", True), ("1.9.0", False)):
            Release.create(
                version=version, filename=f"kasir-{version}.bundle", sha256="0" * 64, size=1,
                active=active,
            )  # fmt: skip
    page.goto(web.url + "/fleet")
    # 1.9.0 is withdrawn: the newest active release is what tills are offered.
    expect(page.locator("h1 .offered-release")).to_have_text("release 1.5.0 offered")
    older = page.locator("tr[data-terminal='JKT1/T31'] td").nth(3)
    expect(older).to_contain_text("1.4.2")
    expect(older.locator(".badge")).to_have_text("older")
    for code in ("T32", "T33"):  # on the offered release; a build that is not a release
        expect(
            page.locator(f"tr[data-terminal='JKT1/{code}'] td").nth(3).locator(".badge")
        ).to_have_count(0)
