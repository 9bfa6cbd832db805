"""The printer and drawer for one command-line transaction.

    with CommandDevices(config, data_dir) as devices:
        devices.print("sale", receipt)
        devices.open_drawer("cash_sale", staff_id=..., ref=...)

The command line is a till too: a sale rung up with `kasir sale` prints its receipt and opens
the drawer for cash like the touchscreen does. The print job goes into the persistent queue
first, so a printer that is offline leaves the receipt queued (printed later by the till or
`kasir reprint`) and never fails the sale; the command waits a few seconds for the paper, then
says what happened.
"""

from __future__ import annotations

from pathlib import Path

from .cash_drawer import CashDrawerService
from .hw import devices as hw
from .hw.base import HardwareError
from .printing import PrintService

PRINT_WAIT = 8.0
DRAWER_WAIT = 3.0


class CommandDevices:
    def __init__(self, config, data_dir: Path):
        self.config = config
        self.data_dir = Path(data_dir)
        self.messages: list[str] = []
        self.printer = self.printing = self.drawer = None
        try:
            self.printer = hw.build_printer(hw.section_of(config, "printer"), data_dir=data_dir)
            self.renderer = hw.build_renderer(hw.section_of(config, "printer"))
            self.printer.open()
            self.printing = PrintService(self.printer, self.renderer).start()
        except (HardwareError, ValueError) as exc:
            self.messages.append(f"printer: {exc}")
        try:
            drawer = hw.build_drawer(hw.section_of(config, "drawer"), printer=self.printer)
            drawer.open()
            self.drawer = CashDrawerService(drawer, tz=config["store.timezone"])
        except (HardwareError, ValueError) as exc:
            self.messages.append(f"drawer: {exc}")

    def __enter__(self) -> CommandDevices:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def print(self, kind: str, receipt, *, copy: bool = False) -> str:
        if self.printing is None:
            return "no printer: receipt not printed"
        if copy:
            self.printing.reprint(receipt)
        else:
            self.printing.queue(kind, receipt.receipt_no, receipt)
        if self.printing.wait_idle(PRINT_WAIT) and not self.printing.status().queued:
            return "receipt printed"
        status = self.printing.status()
        return f"printer: {status.message} — receipt queued, it prints when the printer is back"

    def open_drawer(
        self,
        reason: str,
        *,
        staff_id: str,
        ref: str | None = None,
        approved_by: str | None = None,
        training: bool = False,
    ) -> str:
        if self.drawer is None:
            return "no cash drawer configured"
        future = self.drawer.open(
            reason, staff_id=staff_id, approved_by=approved_by, ref=ref, training=training
        )
        try:
            return future.result(DRAWER_WAIT).message
        except TimeoutError:
            return "drawer: no answer in time"

    def close(self) -> None:
        if self.printing is not None:
            self.printing.stop()
        if self.drawer is not None:
            self.drawer.close()
        if self.printer is not None:
            self.printer.close()
