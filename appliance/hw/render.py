"""Receipts to ESC/POS bytes, through python-escpos, for 32, 42 and 48 columns.

    >>> renderer = ReceiptRenderer(42, profile="TM-T88III")
    >>> data = renderer.render(receipt)                   # doctest: +SKIP
    >>> data[:2]                                          # doctest: +SKIP
    b'\\x1b@'

The rows come from `retail.receipt.layout`, the one layout the CLI and the previews share;
this module only styles them (bold, double height, centred) and adds what text cannot carry:
the logo, the e-receipt QR code, the receipt number as a CODE128 barcode for refunds, the cut.
A receipt is rendered once, when it is queued, and the bytes are stored with the print job.

Text: every text field is transliterated to ASCII before the layout measures it (so "Kopi…"
cannot overflow a row when "…" becomes "..."), and code page CP437 is selected explicitly, in
which ASCII prints as itself on every ESC/POS printer. Nothing outside it is ever sent.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from PIL import Image

from retail.receipt import Receipt, Row, layout, to_ascii, wrap

from .escpos_env import Dummy, profile_names

DEFAULT_PROFILE = "TM-T88III"
CODE_PAGE = "CP437"
DOTS_PER_COLUMN = 12  # font A is 12 dots wide on 80 mm and 58 mm Epson-style printers
MIN_COLUMNS = 24
_KEEP = frozenset({"kind", "locale", "currency", "ereceipt_url", "barcode"})


class RenderError(ValueError):
    """Settings the renderer cannot work with; the message names the setting."""


def ascii_receipt(receipt: Receipt) -> Receipt:
    """The receipt with every printed text transliterated to ASCII (see `to_ascii`)."""

    def convert(value):
        if isinstance(value, str):
            return to_ascii(value)
        if isinstance(value, tuple):
            return tuple(convert(v) for v in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.replace(
                value,
                **{f.name: convert(getattr(value, f.name)) for f in dataclasses.fields(value)},
            )
        return value

    changes = {
        f.name: convert(getattr(receipt, f.name))
        for f in dataclasses.fields(receipt)
        if f.name not in _KEEP
    }
    return dataclasses.replace(receipt, **changes)


def code128_modules(data: str) -> str | None:
    """The bar pattern of `data` in CODE128 set B ("1" = bar module), or None if a character is
    outside set B (printable ASCII)."""
    if not data or any(not 32 <= ord(ch) < 127 for ch in data):
        return None
    from barcode import Code128

    return Code128(data).build()[0]


def code128_image(data: str, module: int, height: int) -> Image.Image | None:
    pattern = code128_modules(data)
    if pattern is None:
        return None
    quiet = 10
    image = Image.new("1", ((len(pattern) + 2 * quiet) * module, height), 1)
    for index, bit in enumerate(pattern):
        if bit == "1":
            x = (quiet + index) * module
            image.paste(0, (x, 0, x + module, height))
    return image


class ReceiptRenderer:
    """Renders receipts for one printer: its width in columns, its profile, the store's logo."""

    def __init__(
        self,
        columns: int = 42,
        *,
        profile: str = DEFAULT_PROFILE,
        logo: str | os.PathLike | None = None,
        print_qr: bool = True,
    ) -> None:
        if columns < MIN_COLUMNS:
            raise RenderError(f"printer.width: {columns} columns is too narrow (24 at least)")
        if profile not in profile_names():
            raise RenderError(f"printer.profile: {profile!r} is not a python-escpos profile")
        self.columns = columns
        self.profile = profile
        self.print_qr = print_qr
        self.warnings: list[str] = []
        probe = Dummy(profile=profile)
        fonts = probe.profile.fonts
        self.font = next(
            (
                name
                for name in sorted(fonts, key=int)
                if columns <= int(fonts[name].get("columns", 0))
            ),
            None,
        )
        if self.font is None:
            widest = max(int(f.get("columns", 0)) for f in fonts.values())
            raise RenderError(
                f"printer.width: {columns} columns do not fit the {profile}, which prints at "
                f"most {widest}: lower the width or pick the printer's own profile"
            )
        pixels = probe.profile.media.get("width", {}).get("pixels")
        self.dots = int(pixels) if str(pixels).isdigit() else columns * DOTS_PER_COLUMN
        if int(self.font) == 0:
            # A 32-column receipt on an 80 mm profile: keep codes and logo inside the text.
            self.dots = min(self.dots, columns * DOTS_PER_COLUMN)
        self._native_qr = probe.profile.supports("qrCode")
        self._hw_code128 = probe.profile.supports("barcodeB")
        self._logo = self._load_logo(logo) if logo else None

    def _load_logo(self, path: str | os.PathLike) -> Image.Image | None:
        path = Path(path)
        try:
            with Image.open(path) as source:
                image = source.convert("RGBA")
        except FileNotFoundError:
            self.warnings.append(f"printer.logo: {path} not found — receipts print without it")
            return None
        except OSError as exc:
            self.warnings.append(
                f"printer.logo: {path} is not an image Kasir can read ({exc}) — "
                "receipts print without it"
            )
            return None
        # Transparent areas become paper, not ink.
        flat = Image.new("RGBA", image.size, (255, 255, 255, 255))
        flat.alpha_composite(image)
        gray = flat.convert("L")
        max_width, max_height = self.dots, 240
        scale = min(1.0, max_width / gray.width, max_height / gray.height)
        if scale < 1.0:
            size = (max(1, int(gray.width * scale)), max(1, int(gray.height * scale)))
            gray = gray.resize(size, Image.Resampling.LANCZOS)
        return gray.convert("1")

    # -- rendering ----------------------------------------------------------------------------

    def _start(self) -> tuple[Dummy, dict]:
        p = Dummy(profile=self.profile)
        p.hw("INIT")
        p.charcode(CODE_PAGE)
        state = {"align": "left", "bold": False, "big": False}
        if int(self.font) != 0:
            p.set(font=int(self.font))
        return p, state

    def _style(self, p: Dummy, state: dict, style: str) -> None:
        align = "center" if style.startswith("center") else "left"
        bold = style in ("bold", "center-bold", "center-big")
        big = style in ("big", "center-big")
        if big != state["big"]:
            # Double height only: double width would halve the columns the layout counted on.
            p.set(double_height=True) if big else p.set(normal_textsize=True)
            state["big"] = big
            # The size command (ESC !) also resets the font and emphasis: set them again.
            if int(self.font) != 0:
                p.set(font=int(self.font))
            state["bold"] = False
            if bold:
                p.set(bold=True)
                state["bold"] = True
        if bold != state["bold"]:
            p.set(bold=bold)
            state["bold"] = bold
        if align != state["align"]:
            p.set(align=align)
            state["align"] = align

    def _rows(self, p: Dummy, state: dict, rows: list[Row]) -> None:
        for row in rows:
            self._style(p, state, row.style)
            text = "-" * self.columns if row.style == "rule" else row.text
            p.text(text[: self.columns] + "\n")
        self._style(p, state, "normal")

    def _finish(self, p: Dummy, state: dict) -> bytes:
        self._style(p, state, "normal")
        p.cut()
        return p.output

    def _qr(self, p: Dummy, state: dict, url: str) -> None:
        size = 6 if self.dots >= 500 else 4
        p.set(align="center")
        state["align"] = "center"
        if self._native_qr:
            p.qr(url, native=True, size=size, ec=1)  # ec=1: level M
            p.text("\n")
        else:
            p.qr(url, native=False, size=size, center=False, ec=1)

    def _barcode(self, p: Dummy, state: dict, code: str) -> None:
        pattern = code128_modules(code)
        if pattern is None:
            return
        p.set(align="center")
        state["align"] = "center"
        # The printer draws set B throughout: start, data, check (11 modules each), stop (13),
        # and needs 10 modules of quiet zone on each side.
        printer_modules = 11 * (len(code) + 2) + 13 + 20
        if self._hw_code128 and printer_modules * 2 <= self.dots:
            p._hw_barcode("{B" + code, "CODE128", height=60, width=2, function_type="B")
            p.text("\n")
            return
        modules = len(pattern) + 20
        module = 2 if modules * 2 <= self.dots else 1
        if modules * module > self.dots:
            return  # cannot fit; the receipt number is printed as text above anyway
        image = code128_image(code, module, 60)
        p.image(image, center=False)
        p.text(code + "\n")

    def render(self, receipt: Receipt) -> bytes:
        """The whole receipt: init, code page, logo, rows, QR, barcode, cut."""
        p, state = self._start()
        if self._logo is not None:
            p.set(align="center")
            state["align"] = "center"
            p.image(self._logo, center=False)
        self._rows(p, state, layout(ascii_receipt(receipt), self.columns))
        if self.print_qr and receipt.ereceipt_url:
            self._qr(p, state, receipt.ereceipt_url)
        if receipt.barcode:
            self._barcode(p, state, receipt.barcode)
        return self._finish(p, state)

    def render_lines(
        self, lines: list[tuple[str, str]], *, barcode: str = "", qr: str = ""
    ) -> bytes:
        """A plain document of (text, style) rows with the same styling, e.g. a test page."""
        p, state = self._start()
        rows = [
            Row(part, style)  # type: ignore[arg-type]
            for text, style in lines
            for part in (wrap(to_ascii(text), self.columns) if text else [""])
        ]
        self._rows(p, state, rows)
        if qr:
            self._qr(p, state, qr)
        if barcode:
            self._barcode(p, state, barcode)
        return self._finish(p, state)
