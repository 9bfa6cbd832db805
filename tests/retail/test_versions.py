"""Release version order: one rule for the OMS and the till, and the updater's standalone copy
of it orders every version the same way."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance import update
from retail.versions import VersionError, is_newer, version_key

ORDERED = [
    "0.9",
    "1.0.dev1",
    "1.0a1",
    "1.0b2",
    "1.0rc1",
    "1.0",
    "1.0.post1",
    "1.0.1",
    "1.2.3",
    "1.10",
    "2.0.0.dev3",
    "2.0",
]


def test_releases_sort_in_pep440_order():
    assert sorted(ORDERED, key=version_key) == ORDERED
    assert version_key("1.2") == version_key("1.2.0") == version_key("1.2.0.0")
    assert is_newer("1.0.1", "1.0") and not is_newer("1.0", "1.0.0")
    assert is_newer("0.1", None)


@pytest.mark.parametrize(
    "bad", ["", " 1.0", "v1.0", "1.0-beta", "1.0+local", "1!1.0", "latest", "1..2"]
)
def test_other_text_is_named(bad):
    with pytest.raises(VersionError, match="is not a release version"):
        version_key(bad)


versions = st.builds(
    lambda release, pre, post, dev: (
        ".".join(map(str, release))
        + (f"{pre[0]}{pre[1]}" if pre else "")
        + (f".post{post}" if post is not None else "")
        + (f".dev{dev}" if dev is not None else "")
    ),
    st.lists(st.integers(0, 20), min_size=1, max_size=4),
    st.none() | st.tuples(st.sampled_from(["a", "b", "rc"]), st.integers(0, 9)),
    st.none() | st.integers(0, 9),
    st.none() | st.integers(0, 9),
)


@given(versions, versions)
def test_the_updaters_copy_orders_the_same(a, b):
    assert (version_key(a) < version_key(b)) == (update.parse_version(a) < update.parse_version(b))
    assert (version_key(a) == version_key(b)) == (
        update.parse_version(a) == update.parse_version(b)
    )
    assert is_newer(a, b) == update.is_newer(a, b)
