"""The till's beeps, written as small WAV files once (no sound files to ship): a short high
beep when an item goes into the cart, a low double beep when a scan cannot be used."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22050
TONES = {
    "ok": [(1760, 0.07)],
    "error": [(330, 0.12), (0, 0.05), (330, 0.12)],
}


def _samples(tones: list[tuple[int, float]]) -> bytes:
    frames = bytearray()
    for freq, seconds in tones:
        count = int(RATE * seconds)
        for i in range(count):
            # Fade in and out over 5 ms so the speaker does not click.
            edge = min(i, count - i) / (RATE * 0.005)
            level = 0.0 if freq == 0 else 0.4 * min(1.0, edge)
            value = int(32767 * level * math.sin(2 * math.pi * freq * i / RATE))
            frames += struct.pack("<h", value)
    return bytes(frames)


def write_sounds(directory: Path) -> dict[str, str]:
    """Write (if missing) and return {name: path} of the till's sounds."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, tones in TONES.items():
        path = directory / f"{name}.wav"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            with wave.open(str(tmp), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(RATE)
                out.writeframes(_samples(tones))
            tmp.replace(path)
        paths[name] = str(path)
    return paths
