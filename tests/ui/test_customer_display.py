"""The customer display: its own process, fed by the till, showing the cart, the amount to pay
(with the QRIS code) and the change."""

from __future__ import annotations

import os
import sys

from appliance.customer_display import CustomerDisplayFeed, parse_geometry
from tests.ui.conftest import SCREENSHOTS
from tests.ui.driver import QRIS_STATIC

OUT = SCREENSHOTS / "customer-display"


def feed(**kwargs) -> CustomerDisplayFeed:
    env = dict(os.environ)  # SDL offscreen and a throwaway KIVY_HOME, from tests/ui/conftest.py
    return CustomerDisplayFeed("800x480+0+0", env=env, **kwargs).start()


def screenshot(display: CustomerDisplayFeed, name: str) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    display.send({"screenshot": str(OUT / f"{name}.png")})
    answer = display.read_line(timeout=30)
    assert answer is not None and answer.startswith("screenshot "), answer
    written = answer.split(" ", 1)[1]
    target = OUT / f"{name}.png"
    os.replace(written, target)
    return str(target)


def test_the_display_shows_what_the_till_sends():
    display = feed()
    try:
        display.show(
            {
                "view": "cart",
                "store": "Toko Maju Jaya",
                "lines": [
                    ["Aqua Air Mineral 600ml", "2 × Rp3.500", "Rp7.000"],
                    ["Chitato Sapi Panggang 68g", "Rp11.000", "Rp11.000"],
                ],
                "total_label": "Total",
                "total": "Rp18.000",
                "note": "3 barang · termasuk pajak Rp1.784",
            }
        )
        assert os.path.getsize(screenshot(display, "cart")) > 5000
        from retail.qris import make_dynamic

        display.show(
            {
                "view": "qris",
                "store": "Toko Maju Jaya",
                "payload": make_dynamic(QRIS_STATIC, 18000),
                "total_label": "Pindai untuk bayar dengan QRIS",
                "total": "Rp18.000",
            }
        )
        assert os.path.getsize(screenshot(display, "qris")) > 5000
        display.show(
            {
                "view": "done",
                "store": "Toko Maju Jaya",
                "change_label": "Kembalian",
                "change": "Rp2.000",
                "thanks": "Terima kasih!",
            }
        )
        screenshot(display, "change")
        assert display.alive()
    finally:
        process = display.process
        display.close()
    assert process.returncode == 0  # the display ends when the till closes its feed


def test_a_display_that_died_is_started_again():
    display = feed(restart_after=0.2)
    try:
        first = display.process
        first.kill()
        first.wait(10)
        display.show({"view": "idle", "welcome": "Selamat datang"})
        import time

        deadline = time.monotonic() + 30
        while display.process is first or not display.alive():
            assert time.monotonic() < deadline, "the display was not started again"
            display.show({"view": "idle", "welcome": "Selamat datang"})
            time.sleep(0.1)
        assert display.restarts == 1
        screenshot(display, "idle")
    finally:
        display.close()


def test_geometry_is_checked_by_shape():
    assert parse_geometry("800x480+1920+0") == (800, 480, 1920, 0)
    try:
        parse_geometry("800x480")
    except ValueError as exc:
        assert "'800x480' is not a window geometry such as 800x480+1920+0" in str(exc)
    else:
        raise AssertionError("accepted a geometry without a position")
    assert sys.executable
