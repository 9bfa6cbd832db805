"""What a printer would make of ESC/POS bytes: the simulated printer's text and PNG previews.

    >>> elements = decode(data)                            # doctest: +SKIP
    >>> print(to_text(elements, columns=42))               # doctest: +SKIP
    >>> to_png(elements, columns=42).save("receipt.png")   # doctest: +SKIP

The simulated printer only ever sees the bytes a print job stores, like a real printer, so its
preview is made from those bytes. The decoder knows the commands Kasir's renderer and
python-escpos send (text modes, alignment, code page, raster images, QR, barcodes, cut, drawer
kick, status queries) and stops with the byte offset at anything else rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

ESC, GS, DLE = 0x1B, 0x1D, 0x10
CODE_PAGES = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    18: "cp862",
    19: "cp858",
}
CELL_W, CELL_H, MARGIN = 12, 24, 12


class DecodeError(ValueError):
    """Bytes the decoder does not understand; the message gives the offset."""


@dataclass(frozen=True)
class TextLine:
    text: str
    align: str = "left"
    bold: bool = False
    width: int = 1
    height: int = 1
    font: int = 0


@dataclass(frozen=True)
class Raster:
    image: Image.Image = field(compare=False)
    align: str = "left"


@dataclass(frozen=True)
class QRCode:
    data: str
    align: str = "left"


@dataclass(frozen=True)
class Barcode:
    system: int
    data: str
    align: str = "left"


@dataclass(frozen=True)
class Cut:
    partial: bool


@dataclass(frozen=True)
class Kick:
    pin: int
    on_ms: int


Element = TextLine | Raster | QRCode | Barcode | Cut | Kick


class _State:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.align, self.bold, self.width, self.height, self.font = "left", False, 1, 1, 0
        self.code_page = "cp437"


def decode(data: bytes) -> list[Element]:
    """The printed elements, in order."""
    out: list[Element] = []
    state = _State()
    line = bytearray()
    line_style: tuple | None = None
    qr_data = b""
    i, n = 0, len(data)

    def need(count: int, what: str) -> bytes:
        if i + count > n:
            raise DecodeError(f"{what} at byte {i} is cut short")
        return data[i : i + count]

    def style() -> tuple:
        return (state.align, state.bold, state.width, state.height, state.font)

    def end_line() -> None:
        nonlocal line, line_style
        align, bold, width, height, font = line_style or style()
        text = bytes(line).decode(state.code_page, errors="replace")
        out.append(TextLine(text, align, bold, width, height, font))
        line = bytearray()
        line_style = None

    def flush() -> None:
        if line:
            end_line()

    while i < n:
        b = data[i]
        if b == 0x0A:
            end_line()
            i += 1
        elif b == ESC:
            cmd = need(2, "ESC command")[1]
            i += 2
            if cmd == 0x40:  # @ initialise
                flush()
                state.reset()
            elif cmd == 0x74:  # t code page
                state.code_page = CODE_PAGES.get(need(1, "ESC t")[0], "cp437")
                i += 1
            elif cmd == 0x21:  # ! print mode
                mode = need(1, "ESC !")[0]
                i += 1
                state.font, state.bold = mode & 1, bool(mode & 8)
                state.height, state.width = (2 if mode & 0x10 else 1), (2 if mode & 0x20 else 1)
            elif cmd == 0x45:  # E emphasis
                state.bold = bool(need(1, "ESC E")[0] & 1)
                i += 1
            elif cmd == 0x4D:  # M font
                state.font = need(1, "ESC M")[0] & 1
                i += 1
            elif cmd == 0x61:  # a justification
                state.align = {0: "left", 1: "center", 2: "right"}.get(
                    need(1, "ESC a")[0] % 48, "left"
                )
                i += 1
            elif cmd == 0x64:  # d feed n lines
                flush()
                out.extend(TextLine("") for _ in range(need(1, "ESC d")[0]))
                i += 1
            elif cmd == 0x70:  # p drawer kick
                m, t1, _t2 = need(3, "ESC p")
                i += 3
                out.append(Kick(5 if m in (1, 49) else 2, t1 * 2))
            elif cmd in (0x2D, 0x7B, 0x4A, 0x33, 0x20, 0x72, 0x47, 0x55, 0x56):  # one argument
                need(1, f"ESC {chr(cmd)}")
                i += 1
            elif cmd == 0x32:  # 2 default line spacing
                pass
            elif cmd == 0x63:  # c 5 n panel buttons
                need(2, "ESC c")
                i += 2
            elif cmd == 0x2A:  # * column bit image
                m, nl, nh = need(3, "ESC *")
                i += 3 + (nl + nh * 256) * (3 if m in (32, 33) else 1)
                flush()
            else:
                raise DecodeError(f"unknown command ESC 0x{cmd:02x} at byte {i - 2}")
        elif b == GS:
            cmd = need(2, "GS command")[1]
            i += 2
            if cmd == 0x21:  # ! character size
                size = need(1, "GS !")[0]
                i += 1
                state.width, state.height = (size >> 4) + 1, (size & 0x0F) + 1
            elif cmd == 0x56:  # V cut
                m = need(1, "GS V")[0]
                i += 1
                if m in (65, 66):
                    need(1, "GS V m n")
                    i += 1
                flush()
                out.append(Cut(partial=m in (1, 49, 66)))
            elif cmd in (0x68, 0x77, 0x66, 0x48, 0x42):  # h w f H B: one argument
                need(1, f"GS {chr(cmd)}")
                i += 1
            elif cmd in (0x4C, 0x57):  # L left margin, W print width: two arguments
                need(2, f"GS {chr(cmd)}")
                i += 2
            elif cmd == 0x6B:  # k barcode
                m = need(1, "GS k")[0]
                i += 1
                if m <= 6:
                    end = data.find(b"\x00", i)
                    if end < 0:
                        raise DecodeError(f"barcode at byte {i} has no NUL terminator")
                    payload, i = data[i:end], end + 1
                else:
                    length = need(1, "GS k length")[0]
                    i += 1
                    payload = need(length, "barcode data")
                    i += length
                flush()
                text = payload.decode("ascii", errors="replace")
                if m == 73 and text[:1] == "{":
                    text = text[2:]  # the code set selector is not part of the data
                out.append(Barcode(m, text, state.align))
            elif cmd == 0x76:  # v 0 raster image
                header = need(6, "GS v 0")
                if header[0] != 0x30:
                    raise DecodeError(f"unknown command GS v 0x{header[0]:02x} at byte {i - 2}")
                width_bytes, height = header[2] + header[3] * 256, header[4] + header[5] * 256
                i += 6
                raster = need(width_bytes * height, "raster image")
                i += width_bytes * height
                image = Image.frombytes("1", (width_bytes * 8, height), raster, "raw", "1;I")
                flush()
                out.append(Raster(image, state.align))
            elif cmd == 0x28:  # ( x: function with a length prefix
                fn_class, pl, ph = need(3, "GS (")
                i += 3
                body = need(pl + ph * 256, "GS ( data")
                i += pl + ph * 256
                if fn_class == 0x6B and body[:2] == b"1P":  # QR: store data
                    qr_data = body[3:]
                elif fn_class == 0x6B and body[:2] == b"1Q":  # QR: print
                    flush()
                    out.append(QRCode(qr_data.decode("utf-8", errors="replace"), state.align))
            else:
                raise DecodeError(f"unknown command GS 0x{cmd:02x} at byte {i - 2}")
        elif b == DLE:
            need(3, "DLE command")
            i += 3
        elif b < 0x20 or b == 0x7F:
            i += 1  # other control bytes do not print
        else:
            if not line:
                line_style = style()
            line.append(b)
            i += 1
    flush()
    return out


def _placed(text: str, align: str, columns: int) -> str:
    if align == "center":
        return text.center(columns).rstrip()
    if align == "right":
        return text.rjust(columns)
    return text


def to_text(elements: list[Element], columns: int) -> str:
    """Plain text, one printed line per row: what a person would read on the paper."""
    rows: list[str] = []
    for element in elements:
        if isinstance(element, TextLine):
            rows.append(_placed(element.text, element.align, columns // element.width))
        elif isinstance(element, QRCode):
            rows.append(_placed(f"[QR {element.data}]", element.align, columns))
        elif isinstance(element, Barcode):
            rows.append(_placed(f"[barcode {element.data}]", element.align, columns))
        elif isinstance(element, Raster):
            rows.append(
                _placed(
                    f"[image {element.image.width}x{element.image.height}]", element.align, columns
                )
            )
        elif isinstance(element, Cut):
            rows.append(_placed("- - - cut - - -", "center", columns))
        elif isinstance(element, Kick):
            rows.append(f"[drawer kick, pin {element.pin}, {element.on_ms} ms]")
    return "\n".join(rows)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for name in ("DejaVuSansMono.ttf", "LiberationMono-Regular.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _text_image(element: TextLine, columns: int, font) -> Image.Image:
    cells = columns // element.width
    line = Image.new("1", (cells * CELL_W, CELL_H), 1)
    draw = ImageDraw.Draw(line)
    start = {"center": (cells - len(element.text)) // 2, "right": cells - len(element.text)}
    col = max(0, start.get(element.align, 0))
    for offset, ch in enumerate(element.text[: cells - col]):
        x = (col + offset) * CELL_W
        draw.text((x, 1), ch, font=font, fill=0)
        if element.bold:
            draw.text((x + 1, 1), ch, font=font, fill=0)
    if element.width != 1 or element.height != 1:
        line = line.resize((line.width * element.width, CELL_H * element.height))
    return line


def to_png(elements: list[Element], columns: int) -> Image.Image:
    """A picture of the paper: text in 12x24 cells as on an 80 mm printer, images, codes."""
    import qrcode

    from .render import code128_image

    width = columns * CELL_W
    font = _font(20)
    blocks: list[tuple[Image.Image, str]] = []
    for element in elements:
        if isinstance(element, TextLine):
            blocks.append((_text_image(element, columns, font), "left"))
        elif isinstance(element, Raster):
            blocks.append((element.image, element.align))
        elif isinstance(element, QRCode):
            code = qrcode.QRCode(box_size=4, border=2)
            code.add_data(element.data)
            code.make(fit=True)
            blocks.append((code.make_image().get_image().convert("1"), element.align))
        elif isinstance(element, Barcode):
            bars = code128_image(element.data, 2, 60)
            if bars is not None:
                blocks.append((bars, element.align))
            label = TextLine(element.data, "center")
            blocks.append((_text_image(label, columns, font), "left"))
        elif isinstance(element, Cut):
            cut = Image.new("1", (width, CELL_H), 1)
            ImageDraw.Draw(cut).line((0, CELL_H // 2, width, CELL_H // 2), fill=0, width=1)
            blocks.append((cut, "left"))
    height = sum(image.height for image, _ in blocks) + 2 * MARGIN
    page = Image.new("1", (width + 2 * MARGIN, max(height, 2 * MARGIN)), 1)
    y = MARGIN
    for image, align in blocks:
        image = image.crop((0, 0, min(image.width, width), image.height))
        x = MARGIN + {"center": (width - image.width) // 2, "right": width - image.width}.get(
            align, 0
        )
        page.paste(image, (x, y))
        y += image.height
    return page
