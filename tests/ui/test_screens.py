"""Every screen at the till's screen sizes, in Indonesian and English: screenshots saved in
tests/screenshots/<language>-<size>/ (git-ignored) for a person to look at, and the layout
checks of screens_tour.layout_problems on each."""

from __future__ import annotations

import pytest

from tests.ui.conftest import SCREENSHOTS
from tests.ui.driver import write_setup_report
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


# The first-boot set-up report: banner and details at both sizes of the 7" display and the
# 10" one, in both languages.
SETUP_SIZES = [(lang, size) for lang, size, short in SIZES if not short]
at_setup_sizes = pytest.mark.parametrize(
    "ui",
    [{"language": lang, "size": size} for lang, size in SETUP_SIZES],
    ids=[f"{lang}-{w}x{h}" for lang, (w, h) in SETUP_SIZES],
    indirect=True,
)


def assert_no_layout_problems(tour) -> None:
    for name, found in tour.problems.items():
        print("PROBLEMS", name, *found, sep="\n  ")
    assert tour.problems == {}


@at_setup_sizes
def test_the_setup_report_banner_and_dialog(ui):
    width, height = ui.size
    tour = Tour(ui, SCREENSHOTS / f"{ui.language}-{width}x{height}")
    # Three problems: two with their line in kasir.toml, one (the enrolment) without.
    write_setup_report(ui.data, enrolment="the OMS did not answer (connection refused)")
    ui.app.go("login")
    tour.shot("01a-login-setup-banner")
    ui.tap(ui.screen.ids.setup)
    tour.shot("01b-dialog-setup-report")
    assert len(tour.shots) == 2
    assert_no_layout_problems(tour)


# Staff: the first-boot PIN banner, Change my PIN, the staff list and its dialogs, at the same
# sizes as the set-up report.
@at_setup_sizes
def test_the_staff_screens_and_dialogs(ui):
    width, height = ui.size
    tour = Tour(ui, SCREENSHOTS / f"{ui.language}-{width}x{height}")
    tour.staff_screens()
    assert len(tour.shots) == 9
    assert_no_layout_problems(tour)
