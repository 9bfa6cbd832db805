import doctest
import itertools
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retail.ids
from retail.ids import (
    INDONESIAN_ZONES,
    is_uuid7,
    iso,
    parse_iso,
    to_local,
    token,
    utcnow,
    uuid7,
    uuid7_time,
    zone,
)

CANONICAL = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_docstring_examples_hold():
    assert doctest.testmod(retail.ids).failed == 0


# --- UUIDv7 -----------------------------------------------------------------------------------


def test_uuid7_is_version_7_with_the_rfc_variant():
    for _ in range(100):
        value = uuid7()
        assert CANONICAL.match(value), value
        u = uuid.UUID(value)
        assert u.version == 7
        assert u.variant == uuid.RFC_4122
        assert (u.int >> 76) & 0xF == 7
        assert (u.int >> 62) & 0b11 == 0b10
        assert is_uuid7(value)


def test_uuid7_is_monotonic_and_unique_within_a_process():
    ids = [uuid7() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    # Fixed-width lowercase hex: string order is numeric order, the order of birth.
    assert all(a < b for a, b in itertools.pairwise(ids))
    ints = [uuid.UUID(i).int for i in ids]
    assert ints == sorted(ints)


def test_uuid7_is_monotonic_across_threads():
    out: list[list[str]] = [[] for _ in range(4)]

    def make(bucket):
        for _ in range(2000):
            bucket.append(uuid7())

    threads = [threading.Thread(target=make, args=(b,)) for b in out]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for bucket in out for i in bucket]
    assert len(set(every)) == len(every)
    for bucket in out:
        assert bucket == sorted(bucket)


def test_uuid7_time_is_its_birth_time():
    before = datetime.now(UTC)
    value = uuid7()
    after = datetime.now(UTC)
    born = uuid7_time(value)
    assert born.tzinfo is UTC
    # Millisecond precision; the in-process counter may push at most a millisecond ahead.
    assert before - timedelta(milliseconds=1) <= born <= after + timedelta(milliseconds=2)


def test_uuid7_time_of_a_known_id():
    # RFC 9562 appendix A.6 example: 017F22E2-79B0-7CC3-98C4-DC0C0C07398F, 2022-02-22 19:22:22 UTC
    assert uuid7_time("017f22e2-79b0-7cc3-98c4-dc0c0c07398f") == datetime(
        2022, 2, 22, 19, 22, 22, tzinfo=UTC
    )


def test_uuid7_time_refuses_other_versions():
    v4 = "b3260810-1eae-4071-8c24-83a691d9687c"
    with pytest.raises(ValueError, match=f"{v4} is a version 4 UUID, not version 7"):
        uuid7_time(v4)


@pytest.mark.parametrize(
    "value",
    ["b3260810-1eae-4071-8c24-83a691d9687c", "not-a-uuid", "", None, 7, str(uuid.uuid1())],
)
def test_is_uuid7_false_for_anything_else(value):
    assert is_uuid7(value) is False


# --- time -------------------------------------------------------------------------------------


def test_utcnow_is_aware_utc():
    now = utcnow()
    assert now.tzinfo is UTC
    assert now.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("name", "iana", "hours"),
    [("WIB", "Asia/Jakarta", 7), ("WITA", "Asia/Makassar", 8), ("WIT", "Asia/Jayapura", 9)],
)
def test_to_local_for_indonesias_three_zones(name, iana, hours):
    moment = datetime(2026, 1, 1, 20, 30, tzinfo=UTC)
    for tz in (name, iana):
        local = to_local(moment, tz)
        assert local.utcoffset() == timedelta(hours=hours)
        assert local == moment  # the same instant
        assert (local.hour, local.minute) == ((20 + hours) % 24, 30)
        assert local.date() == datetime(2026, 1, 2).date()
    assert INDONESIAN_ZONES[name] == iana
    assert zone(name).key == iana


def test_to_local_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="naive datetime: Kasir stores aware UTC times only"):
        to_local(datetime(2026, 1, 1, 12), "WIB")


@pytest.mark.parametrize("name", ["Mars/Base", "", "../../etc/passwd", "WIBB"])
def test_unknown_zone(name):
    with pytest.raises(ValueError, match=f"time zone '{re.escape(name)}' is not a known IANA zone"):
        zone(name)
    with pytest.raises(ValueError, match="is not a known IANA zone"):
        to_local(utcnow(), name)


def test_iso_form():
    moment = datetime(2026, 3, 4, 5, 6, 7, 891234, tzinfo=UTC)
    assert iso(moment) == "2026-03-04T05:06:07.891Z"
    jakarta = datetime(2026, 3, 4, 12, 6, 7, tzinfo=timezone(timedelta(hours=7)))
    assert iso(jakarta) == "2026-03-04T05:06:07.000Z"


def test_iso_refuses_naive_datetimes():
    # A naive time would be read in the machine's own zone: on a till set to WIB, 7 hours off.
    with pytest.raises(ValueError, match="naive datetime: Kasir stores aware UTC times only"):
        iso(datetime(2026, 1, 1, 12))


def test_parse_iso():
    assert parse_iso("2026-01-01T00:00:00.000Z") == datetime(2026, 1, 1, tzinfo=UTC)
    parsed = parse_iso("2026-01-01T07:00:00+07:00")
    assert parsed == datetime(2026, 1, 1, tzinfo=UTC)
    assert parsed.tzinfo is UTC


def test_parse_iso_refuses_naive_text():
    with pytest.raises(ValueError, match=r"time '2026-01-01T00:00:00' has no UTC offset"):
        parse_iso("2026-01-01T00:00:00")


def test_parse_iso_refuses_garbage():
    with pytest.raises(ValueError, match="yesterday"):
        parse_iso("yesterday")


@settings(max_examples=200)
@given(
    moment=st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=-9, minutes=-30))]
        ),
    )
)
def test_iso_round_trips_to_the_millisecond(moment):
    text = iso(moment)
    assert text.endswith("Z")
    back = parse_iso(text)
    assert back.tzinfo is UTC
    assert back == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert iso(back) == text


def test_token_is_unguessable_and_url_safe():
    tokens = {token() for _ in range(200)}
    assert len(tokens) == 200
    for t in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", t)
    assert len(token(32)) == 43
