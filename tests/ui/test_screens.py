"""Every screen at the till's screen sizes, in Indonesian and English: screenshots saved in
tests/screenshots/<language>-<size>/ (git-ignored) for a person to look at, and the layout
checks of screens_tour.layout_problems on each."""

from __future__ import annotations

import pytest

from tests.ui.conftest import SCREENSHOTS
from tests.ui.screens_tour import Tour

# Every screen at the official 7" display's size and at 1280x800, in both languages; the main
# screens at 1024x600 and in portrait.
SIZES = [
    ("id_ID", (800, 480), False),
    ("en", (800, 480), False),
    ("id_ID", (1280, 800), False),
    ("en", (1280, 800), False),
    ("en", (1024, 600), True),
    ("id_ID", (720, 1280), True),
]


@pytest.mark.parametrize(
    "ui",
    [{"language": lang, "size": size, "short": short} for lang, size, short in SIZES],
    ids=[f"{lang}-{w}x{h}" for lang, (w, h), _short in SIZES],
    indirect=True,
)
def test_every_screen(ui):
    width, height = ui.size
    tour = Tour(ui, SCREENSHOTS / f"{ui.language}-{width}x{height}")
    tour.run(short=ui.short)
    assert len(tour.shots) >= (12 if ui.short else 35)
    for name, found in tour.problems.items():
        print("PROBLEMS", name, *found, sep="\n  ")
    assert tour.problems == {}
