"""staff.changed from a till, through a real uvicorn, once on SQLite and once on PostgreSQL:
booked as the store's staff member for the store's other tills to pull; another store's (or
every store's) staff member refused with a reason; a re-delivery changes nothing."""

from __future__ import annotations

import pytest
from oms_events import FakeTill

from retail.ids import uuid7
from retail.pins import hash_secret, verify_secret


def post(http, *built):
    answer = http.post("/api/v1/sync/events", json={"events": [b.text for b in built]})
    assert answer.status_code == 200, answer.text
    return [(r["outcome"], r["reason"]) for r in answer.json()["results"]]


def pulled_staff(http, since=None) -> tuple[dict, list, str]:
    """Every staff member and removal the OMS sends from `since`, and the next cursor."""
    staff, removals = {}, []
    while True:
        params = {"since": since} if since else {}
        answer = http.get("/api/v1/sync/catalog", params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        staff.update({s["id"]: s for s in page["staff"]})
        removals += [r["key"] for r in page["removals"] if r["kind"] == "staff"]
        since = page["next_cursor"]
        if not page["more"]:
            return staff, removals, since


@pytest.fixture(scope="module")
def store_tills(oms_server):
    """Two tills of store STF and one of store OTH: their enrolment answers (with tokens)."""
    return (
        oms_server.enrol("STF", "Kasir 1"),
        oms_server.enrol("STF", "Kasir 2"),
        oms_server.enrol("OTH", "Kasir 1"),
    )


def test_a_pin_changed_at_one_till_reaches_the_others_of_its_store(oms_server, store_tills):
    from cloud_oms.models.core import Staff, Store

    one, two, other = store_tills
    till = FakeTill("T01")
    eko = uuid7()
    with oms_server.client(token=two["token"]) as http:
        _, _, two_cursor = pulled_staff(http)
    with oms_server.client(token=other["token"]) as http:
        _, _, other_cursor = pulled_staff(http)

    added = till.staff_changed(eko, "Eko", "4829", role="manager")
    changed = till.staff_changed(eko, "Eko", "7305", role="manager")
    with oms_server.client(token=one["token"]) as http:
        assert post(http, added, changed) == [("accepted", None), ("accepted", None)]
    with oms_server.bind():
        row = Staff.get_by_id(eko)
        assert row.store_id == Store.get(Store.code == "STF").id  # from the token
        assert (row.name, row.role, row.active) == ("Eko", "manager", True)
        assert row.pin_hash == changed.payload.pin_hash

    with oms_server.client(token=two["token"]) as http:
        staff, _, two_cursor = pulled_staff(http, two_cursor)
    assert verify_secret("7305", staff[eko]["pin_hash"]) and staff[eko]["role"] == "manager"
    with oms_server.client(token=other["token"]) as http:
        staff, removals, _ = pulled_staff(http, other_cursor)
    assert eko not in staff and eko in removals  # another store's: never its PIN

    # Deactivated at one till: the other drops him at its next pull.
    gone = till.staff_changed(eko, "Eko", changed.payload.pin_hash, role="manager", active=False)
    with oms_server.client(token=one["token"]) as http:
        assert post(http, gone) == [("accepted", None)]
    with oms_server.client(token=two["token"]) as http:
        staff, _, _ = pulled_staff(http, two_cursor)
    assert staff[eko]["active"] is False


def test_a_re_delivery_changes_nothing(oms_server, store_tills):
    from cloud_oms import catalog
    from cloud_oms.models.core import Staff

    one = store_tills[0]
    till = FakeTill("T01", seq=100)
    ani = uuid7()
    first = till.staff_changed(ani, "Ani", "1357")
    with oms_server.client(token=one["token"]) as http:
        assert post(http, first) == [("accepted", None)]
        with oms_server.bind():
            version = catalog.catalog_version()
            updated = Staff.get_by_id(ani).updated_at
        assert post(http, first, first) == [("duplicate", None), ("duplicate", None)]
    with oms_server.bind():
        assert catalog.catalog_version() == version
        assert Staff.get_by_id(ani).updated_at == updated


def test_another_stores_staff_member_is_refused(oms_server, store_tills):
    from cloud_oms import catalog
    from cloud_oms.models.core import Staff, Store

    one = store_tills[0]
    with oms_server.bind():
        theirs = catalog.save_staff(
            name="Budi",
            pin_hash=hash_secret("2468", n=2**4),
            role="manager",
            store=Store.get(Store.code == "OTH"),
        )
        everyones = catalog.save_staff(name="Pemilik", pin_hash=hash_secret("9999", n=2**4))
        version = catalog.catalog_version()
    till = FakeTill("T01", seq=200)
    steal = till.staff_changed(theirs.id, "Budi", "0000", role="manager")
    shared = till.staff_changed(everyones.id, "Pemilik", "0000", role="manager")
    with oms_server.client(token=one["token"]) as http:
        answer = post(http, steal, shared)
    assert answer == [
        ("rejected", f"staff_id: staff member {theirs.id} belongs to another store"),
        (
            "rejected",
            f"staff_id: staff member {everyones.id} is shared by every store: change them at "
            "the OMS",
        ),
    ]
    with oms_server.bind():
        assert Staff.get_by_id(theirs.id).pin_hash == theirs.pin_hash
        assert Staff.get_by_id(theirs.id).store_id == theirs.store_id
        assert Staff.get_by_id(everyones.id).pin_hash == everyones.pin_hash
        assert catalog.catalog_version() == version


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("pin_hash", "4829", "payload.staff.changed.pin_hash: Value error, pin_hash is not scrypt"),
        ("role", "owner", "payload.staff.changed.role: Input should be 'cashier' or 'manager'"),
        ("store", "OTH", "payload.staff.changed.store: Extra inputs are not permitted"),
    ],
)
def test_a_bad_staff_change_is_refused_naming_the_field(
    oms_server, store_tills, field, value, reason
):
    import json

    from cloud_oms.models.core import Staff

    one = store_tills[0]
    built = FakeTill("T01", seq=300).staff_changed(uuid7(), "Sari", "4829")
    body = json.loads(built.text)
    body["payload"][field] = value
    with oms_server.client(token=one["token"]) as http:
        answer = http.post("/api/v1/sync/events", json={"events": [json.dumps(body)]})
    [result] = answer.json()["results"]
    assert result["outcome"] == "rejected" and result["reason"].startswith(
        "invalid event: " + reason
    ), result["reason"]
    with oms_server.bind():
        assert Staff.get_or_none(Staff.id == built.payload.staff_id) is None
