"""Telling a USB keyboard-wedge scanner from a person typing, by the timing of the keys.

    >>> detector = BurstDetector()
    >>> events = []
    >>> for i, key in enumerate("4006381333931"):
    ...     events += detector.feed(key, at=i * 0.003)
    >>> events + detector.feed("enter", at=0.040)
    [Scan(code='4006381333931')]

A scanner in keyboard mode "types" a whole code a few milliseconds per key and ends it with
Enter; people type 100 ms or more apart. So keys are held while they keep arriving within
`max_gap` of each other: a burst of at least `min_length` characters ended by Enter is a scan,
anything else (a slow key, a short burst, Enter after a pause, an editing key) goes back to the
focused field as `Typed`, in order, with nothing lost. Call `poll(now)` about every `max_gap`
(e.g. from a UI clock) so a held key reaches the field even when no further key follows.

Pure: no clock, no threads, no UI — the Kivy layer feeds it key names and times.
"""

from __future__ import annotations

from dataclasses import dataclass

ENTER_KEYS = frozenset({"enter", "return", "numpadenter", "\r", "\n"})


@dataclass(frozen=True)
class Scan:
    code: str


@dataclass(frozen=True)
class Typed:
    """Keys for the focused field, in the order they were pressed."""

    keys: tuple[str, ...]


class BurstDetector:
    def __init__(self, *, min_length: int = 8, max_gap: float = 0.030) -> None:
        if min_length < 1:
            raise ValueError(f"min_length {min_length} should be at least 1")
        if max_gap <= 0:
            raise ValueError(f"max_gap {max_gap} should be above zero")
        self.min_length = min_length
        self.max_gap = max_gap
        self._held: list[str] = []
        self._last: float | None = None

    @property
    def holding(self) -> bool:
        return bool(self._held)

    @property
    def deadline(self) -> float | None:
        """When the held keys turn into typing unless another key comes first."""
        return None if self._last is None or not self._held else self._last + self.max_gap

    def _release(self, *extra: str) -> list[Typed]:
        keys = (*self._held, *extra)
        self._held = []
        self._last = None
        return [Typed(keys)] if keys else []

    def feed(self, key: str, at: float) -> list[Scan | Typed]:
        """One key press (a character, or a key name such as "enter", "backspace") at time `at`
        in seconds. Returns what happened, in order."""
        out: list[Scan | Typed] = []
        if self._held and (at - self._last > self.max_gap or at < self._last):
            out += self._release()
        if key.lower() in ENTER_KEYS:
            if len(self._held) >= self.min_length:
                code = "".join(self._held)
                self._held = []
                self._last = None
                out.append(Scan(code))
            else:
                out += self._release(key)
        elif len(key) == 1 and key.isprintable():
            self._held.append(key)
            self._last = at
        else:
            out += self._release(key)
        return out

    def poll(self, now: float) -> list[Typed]:
        """Hand back held keys once no key has come for `max_gap`."""
        if self._held and now - self._last > self.max_gap:
            return self._release()
        return []
