"""Every screen at the till's screen sizes, in Indonesian and English: screenshots saved in
tests/screenshots/<language>-<size>/ (git-ignored) for a person to look at, and the layout
checks of screens_tour.layout_problems on each."""

from __future__ import annotations

import pytest

from tests.ui.conftest import SCREENSHOTS
from tests.ui.screens_tour import Tour

SIZES = [
    ("id_ID", (800, 480)),
    ("en", (800, 480)),
    ("id_ID", (1280, 800)),
    ("en", (1280, 800)),
    ("en", (1024, 600)),
    ("id_ID", (720, 1280)),
]


@pytest.mark.parametrize(
    "ui",
    [{"language": lang, "size": size} for lang, size in SIZES],
    ids=[f"{lang}-{w}x{h}" for lang, (w, h) in SIZES],
    indirect=True,
)
def test_every_screen(ui):
    width, height = ui.size
    tour = Tour(ui, SCREENSHOTS / f"{ui.language}-{width}x{height}")
    tour.run()
    assert len(tour.shots) >= 30
    for name, found in tour.problems.items():
        print("PROBLEMS", name, *found, sep="\n  ")
    assert tour.problems == {}
