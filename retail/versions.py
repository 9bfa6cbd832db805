"""Release versions, ordered: which Kasir release is newer than another.

    >>> version_key("1.2.0") == version_key("1.2")
    True
    >>> version_key("1.2.3rc1") < version_key("1.2.3") < version_key("1.2.3.post1")
    True

PEP 440 in the forms Kasir releases use: 1.2.3, 1.2.3rc1, 1.2.3.post1, 1.2.3.dev4 (no epochs
or local versions: a release never needs them). The OMS orders the releases it offers with
this, the till decides with it whether an offer is newer than what runs. The till's updater
(`appliance/update.py`) keeps a copy of the same rule, because it runs with Debian's python3
outside any release venv; tests/retail/test_versions.py holds the two to the same order.
"""

from __future__ import annotations

import re

_VERSION = re.compile(
    r"(?P<release>\d+(?:\.\d+)*)"
    r"(?:(?P<pre>a|b|rc)(?P<pre_n>\d+))?"
    r"(?:\.post(?P<post>\d+))?"
    r"(?:\.dev(?P<dev>\d+))?"
)


class VersionError(ValueError):
    pass


def version_key(text: str) -> tuple:
    """A sortable key for a release version; VersionError for any other text."""
    match = _VERSION.fullmatch(text)
    if not match:
        raise VersionError(
            f"version {text!r} is not a release version such as 1.2.3 "
            "(PEP 440: 1.2.3, 1.2.3rc1, 1.2.3.post1, 1.2.3.dev4)"
        )
    release = tuple(int(part) for part in match["release"].split("."))
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    dev = int(match["dev"]) if match["dev"] is not None else None
    if match["pre"]:
        pre = ({"a": 0, "b": 1, "rc": 2}[match["pre"]], int(match["pre_n"]))
    elif dev is not None and match["post"] is None:
        pre = (-1, 0)  # 1.0.dev1 comes before 1.0a1
    else:
        pre = (3, 0)
    post = int(match["post"]) if match["post"] is not None else -1
    return (release, pre, post, dev if dev is not None else float("inf"))


def is_newer(candidate: str, running: str | None) -> bool:
    """Whether release `candidate` is newer than the `running` one (None: nothing runs)."""
    return running is None or version_key(candidate) > version_key(running)
