"""The keyboard-wedge burst detector: scans are bursts ending in Enter, everything else is typing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.hw.wedge import BurstDetector, Scan, Typed


def feed_all(detector, keys_and_times):
    out = []
    for key, at in keys_and_times:
        out += detector.feed(key, at)
    return out


def burst(text, start=0.0, gap=0.003):
    return [(ch, start + i * gap) for i, ch in enumerate(text)]


def test_a_scanner_burst_is_a_scan():
    detector = BurstDetector()
    events = feed_all(detector, [*burst("4006381333931"), ("enter", 0.045)])
    assert events == [Scan("4006381333931")]
    assert not detector.holding


def test_eight_characters_is_the_shortest_scan():
    assert feed_all(BurstDetector(), [*burst("96385074"), ("enter", 0.03)]) == [Scan("96385074")]
    short = feed_all(BurstDetector(), [*burst("1234567"), ("enter", 0.03)])
    assert short == [Typed(("1", "2", "3", "4", "5", "6", "7", "enter"))]


def test_a_person_typing_gets_every_key_back_in_order():
    detector = BurstDetector()
    events = feed_all(detector, [("1", 0.0), ("2", 0.15), ("0", 0.31), ("enter", 0.5)])
    assert events == [Typed(("1",)), Typed(("2",)), Typed(("0",)), Typed(("enter",))]


def test_held_keys_are_released_by_poll_after_the_gap():
    detector = BurstDetector(max_gap=0.03)
    assert detector.feed("a", 1.0) == []
    assert detector.deadline == pytest.approx(1.03)
    assert detector.poll(1.02) == []
    assert detector.poll(1.05) == [Typed(("a",))]
    assert detector.poll(1.5) == []


def test_a_pause_before_enter_makes_it_typing():
    events = feed_all(BurstDetector(), [*burst("4006381333931"), ("enter", 0.2)])
    assert events == [Typed(tuple("4006381333931")), Typed(("enter",))]


def test_an_editing_key_inside_a_burst_is_typing():
    events = feed_all(BurstDetector(), [*burst("4006"), ("backspace", 0.013), *burst("12", 0.016)])
    assert events == [Typed(("4", "0", "0", "6", "backspace"))]


def test_typing_right_before_a_scan_stays_apart():
    events = feed_all(BurstDetector(), [("q", 0.0), *burst("4006381333931", 0.1), ("enter", 0.14)])
    assert events == [Typed(("q",)), Scan("4006381333931")]


def test_time_going_backwards_releases_the_held_keys():
    events = feed_all(BurstDetector(), [("a", 5.0), ("b", 4.0)])
    assert events == [Typed(("a",))]


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="min_length 0"):
        BurstDetector(min_length=0)
    with pytest.raises(ValueError, match="max_gap 0"):
        BurstDetector(max_gap=0)


keys = st.sampled_from([*"0123456789ABC-", "enter", "backspace", "tab"])
gaps = st.sampled_from([0.001, 0.004, 0.02, 0.029, 0.031, 0.05, 0.2])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(keys, gaps), max_size=60))
def test_no_key_is_ever_lost_or_reordered(presses):
    """Whatever the timing, typed keys plus scanned codes (each with its Enter) give back
    exactly the keys pressed, in order; and every scan is a fast burst ending in Enter."""
    detector = BurstDetector()
    at = 0.0
    out = []
    for key, gap in presses:
        at += gap
        out += detector.feed(key, at)
    out += detector.poll(at + 1.0)
    replayed = []
    for event in out:
        if isinstance(event, Scan):
            assert len(event.code) >= 8
            replayed += [*event.code, "enter"]
        else:
            replayed += event.keys
    assert replayed == [key for key, _ in presses]
    assert not detector.holding
