"""A small ESC/POS decoder for the tests, written from the Epson command reference and
independent of `appliance.hw.preview`, so the two check each other.

`decode(data)` gives a list of events: ("init",), ("codepage", n), ("line", text, style),
("cut", mode), ("kick", m, t1, t2), ("qr", data), ("barcode", system, data),
("raster", width_bytes, height), ("query", n). Text must be 7-bit ASCII: any other byte in text
fails the test, since it would print differently per code page.
"""

from __future__ import annotations


def decode(data: bytes) -> list[tuple]:
    events: list[tuple] = []
    style = {"bold": False, "align": "left", "big": False}
    line = bytearray()
    qr_store = b""
    i = 0

    def arg(k: int = 1) -> bytes:
        assert i + k <= len(data), f"command cut short at byte {i}"
        return data[i : i + k]

    while i < len(data):
        b = data[i]
        if b == 0x0A:
            events.append(("line", line.decode("ascii"), dict(style)))
            line = bytearray()
            i += 1
            continue
        if b >= 0x20 and b != 0x7F:
            assert b < 0x80, f"byte 0x{b:02x} at {i} is not ASCII: it would print as garbage"
            line.append(b)
            i += 1
            continue
        prefix, cmd = data[i], data[i + 1]
        i += 2
        if prefix == 0x1B and cmd == ord("@"):
            events.append(("init",))
            style = {"bold": False, "align": "left", "big": False}
        elif prefix == 0x1B and cmd == ord("t"):
            events.append(("codepage", arg()[0]))
            i += 1
        elif prefix == 0x1B and cmd == ord("!"):
            mode = arg()[0]
            style["bold"], style["big"] = bool(mode & 0x08), bool(mode & 0x10)
            i += 1
        elif prefix == 0x1B and cmd == ord("E"):
            style["bold"] = bool(arg()[0] & 1)
            i += 1
        elif prefix == 0x1B and cmd == ord("a"):
            style["align"] = ("left", "center", "right")[arg()[0] % 48]
            i += 1
        elif prefix == 0x1B and cmd in (ord("d"), ord("M")):
            i += 1
        elif prefix == 0x1B and cmd == ord("p"):
            events.append(("kick", *arg(3)))
            i += 3
        elif prefix == 0x1D and cmd == ord("V"):
            events.append(("cut", arg()[0]))
            i += 1
        elif prefix == 0x1D and cmd in (ord("h"), ord("w"), ord("f"), ord("H")):
            i += 1
        elif prefix == 0x1D and cmd == ord("k"):
            system, length = arg(2)
            i += 2
            events.append(("barcode", system, arg(length).decode("ascii")))
            i += length
        elif prefix == 0x1D and cmd == ord("("):
            fn_class, pl, ph = arg(3)
            i += 3
            body = arg(pl + 256 * ph)
            i += pl + 256 * ph
            if fn_class == ord("k") and body[:2] == b"1P":
                qr_store = body[3:]
            elif fn_class == ord("k") and body[:2] == b"1Q":
                events.append(("qr", qr_store.decode("utf-8")))
        elif prefix == 0x1D and cmd == ord("v"):
            header = arg(6)
            width_bytes, height = header[2] + 256 * header[3], header[4] + 256 * header[5]
            events.append(("raster", width_bytes, height))
            i += 6 + width_bytes * height
        elif prefix == 0x10 and cmd == 0x04:
            events.append(("query", arg()[0]))
            i += 1
        else:
            raise AssertionError(f"unexpected command 0x{prefix:02x} 0x{cmd:02x} at byte {i - 2}")
    assert not line, f"text {bytes(line)!r} never ended with LF"
    return events


def lines(data: bytes) -> list[str]:
    return [event[1] for event in decode(data) if event[0] == "line"]


def styled(data: bytes) -> list[tuple[str, dict]]:
    return [(event[1], event[2]) for event in decode(data) if event[0] == "line"]
