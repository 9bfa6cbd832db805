"""python-escpos, imported once with a stable capabilities cache.

python-escpos pickles its printer profiles into `ESCPOS_CAPABILITIES_PICKLE_DIR`, or into a new
temporary directory on every import when that is unset (which fills /tmp on a till that runs for
months). Import escpos through this module so the variable is set first.
"""

from __future__ import annotations

import os
import tempfile
from functools import cache
from pathlib import Path


def _cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    candidates = (
        Path(base) / "kasir" / "escpos",
        Path(tempfile.gettempdir()) / f"kasir-escpos-{os.getuid()}",
    )
    for candidate in candidates:
        try:
            candidate.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK):
            return str(candidate)
    return tempfile.gettempdir()


os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", _cache_dir())

from escpos import capabilities  # noqa: E402
from escpos.constants import CD_KICK_DEC_SEQUENCE  # noqa: E402
from escpos.printer import Dummy  # noqa: E402

__all__ = ["CD_KICK_DEC_SEQUENCE", "Dummy", "capabilities", "profile_names"]


@cache
def profile_names() -> frozenset[str]:
    return frozenset(capabilities.CAPABILITIES["profiles"])
