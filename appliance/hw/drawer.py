"""Cash drawers: a solenoid on a GPIO pin, a drawer kicked through the printer, a simulated one.

    >>> with GpioDrawer(17, sensor_pin=27, pulse_ms=100) as drawer:   # doctest: +SKIP
    ...     drawer.pulse()          # blocks for the pulse; run it off the UI thread
    ...     drawer.is_open
    True

With a sensor the drawer knows whether it is open: it refuses to pulse while it reads open, it
checks after each pulse that the drawer did open (and pulses once more if not, then says so),
and it raises `when_left_open` when the drawer stays open longer than `left_open_after`.
`appliance.cash_drawer` decides *when* a drawer may open and writes the audit log; this module
only drives the hardware.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .base import Device, HardwareError, call_safely, explain
from .printer import Printer


class DrawerError(HardwareError):
    """The drawer did not (or may not) open; the message says why and what to do."""


class DrawerOpenError(DrawerError):
    """Refused: the sensor reads open."""


class Drawer(Device):
    """Shared behaviour: the sensor's open/closed events, the left-open alert, refusal while
    open and the check that a pulse opened the drawer."""

    kind = "drawer"

    def __init__(
        self,
        *,
        pulse_ms: int = 100,
        left_open_after: float = 60.0,
        confirm_within: float = 0.5,
        when_opened: Callable[[], None] | None = None,
        when_closed: Callable[[], None] | None = None,
        when_left_open: Callable[[float], None] | None = None,
        when_status=None,
    ):
        super().__init__(when_status=when_status)
        if not 10 <= pulse_ms <= 500:
            raise ValueError(f"drawer.pulse_ms: {pulse_ms} ms is not a drawer pulse (10-500)")
        self.pulse_ms = pulse_ms
        self.left_open_after = left_open_after
        self.confirm_within = confirm_within
        self.when_opened = when_opened
        self.when_closed = when_closed
        self.when_left_open = when_left_open
        self.opened_at: float | None = None
        self._opened = threading.Event()
        self._pulse_lock = threading.Lock()
        self._timer: threading.Timer | None = None

    @property
    def has_sensor(self) -> bool:
        return False

    @property
    def is_open(self) -> bool | None:
        """True/False from the sensor; None without one."""
        return None

    # -- sensor events --------------------------------------------------------------------------

    def _sensor_changed(self, is_open: bool) -> None:
        if is_open:
            self.opened_at = time.monotonic()
            self._opened.set()
            self._start_timer()
            self._set_status("ready", "open")
            call_safely(self.when_opened)
        else:
            self.opened_at = None
            self._cancel_timer()
            self._set_status("ready", "closed")
            call_safely(self.when_closed)

    def _start_timer(self) -> None:
        self._cancel_timer()
        timer = threading.Timer(self.left_open_after, self._left_open)
        timer.daemon = True
        self._timer = timer
        timer.start()

    def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def _left_open(self) -> None:
        if self.closed or not self.is_open or self.opened_at is None:
            return
        seconds = time.monotonic() - self.opened_at
        self._set_status("warning", f"drawer left open for {seconds:.0f} s — close it")
        call_safely(self.when_left_open, seconds)

    def _close(self) -> None:
        self._cancel_timer()

    # -- pulsing --------------------------------------------------------------------------------

    def _fire(self) -> None:
        raise NotImplementedError

    def pulse(self) -> None:
        """Open the drawer. Blocks for the pulse (and, with a sensor, until it reads open or
        `confirm_within` passes). Raises DrawerOpenError when it already reads open and
        DrawerError when it cannot be opened."""
        self._require_open()
        if self.status.state == "offline":
            raise DrawerError(self.status.message)
        with self._pulse_lock:
            if self.is_open:
                raise DrawerOpenError(
                    "the drawer is already open — close it first (if it is closed, the sensor "
                    "reads the other way round: flip [drawer] sensor_open_high)"
                )
            if not self.has_sensor:
                self._fire()
                return
            for _attempt in range(2):
                self._opened.clear()
                self._fire()
                if self._opened.wait(self.confirm_within) or self.is_open:
                    return
            message = (
                "pulsed twice but the sensor still reads closed — the drawer may be locked "
                "with its key, jammed, or its cable is loose"
            )
            self._set_status("warning", message)
            raise DrawerError(message)


def _gpio_error(exc: BaseException, pin_text: str) -> str:
    name = type(exc).__name__
    if name in ("BadPinFactory", "PinFactoryFallback"):
        return (
            "no GPIO on this machine (not a Raspberry Pi, or the lgpio library is missing) — "
            'set [drawer] type = "sim" or "printer"'
        )
    if name == "GPIOPinInUse":
        return f"{pin_text} is already used by another device — pick another [drawer] pin"
    if isinstance(exc, OSError):
        return explain(exc, "/dev/gpiochip0", what="drawer", section="drawer", key="pin")
    return f"{pin_text}: {exc}"


class GpioDrawer(Drawer):
    """A drawer solenoid driven by a GPIO pin (through a transistor or relay board), with an
    optional switch on `sensor_pin` to ground (the pin is pulled up)."""

    def __init__(
        self,
        pin: int,
        *,
        sensor_pin: int | None = None,
        sensor_open_high: bool = False,
        pin_factory=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.pin = pin
        self.sensor_pin = sensor_pin
        self.sensor_open_high = sensor_open_high
        self.pin_factory = pin_factory
        self._solenoid = None
        self._sensor = None

    def describe(self) -> str:
        sensor = f", sensor GPIO {self.sensor_pin}" if self.sensor_pin is not None else ""
        return f"GPIO {self.pin}{sensor}"

    @property
    def has_sensor(self) -> bool:
        return self._sensor is not None

    @property
    def is_open(self) -> bool | None:
        if self._sensor is None:
            return None
        # Pulled up: the input is "active" when the switch pulls it low.
        return (not self._sensor.is_active) if self.sensor_open_high else self._sensor.is_active

    def _open(self) -> None:
        from gpiozero import DigitalInputDevice, DigitalOutputDevice

        try:
            self._solenoid = DigitalOutputDevice(
                self.pin, initial_value=False, pin_factory=self.pin_factory
            )
        except Exception as exc:
            self._set_status("offline", _gpio_error(exc, f"GPIO {self.pin}"))
            return
        if self.sensor_pin is not None:
            try:
                self._sensor = DigitalInputDevice(
                    self.sensor_pin, pull_up=True, bounce_time=0.02, pin_factory=self.pin_factory
                )
            except Exception as exc:
                self._set_status("offline", _gpio_error(exc, f"sensor GPIO {self.sensor_pin}"))
                return
            active, inactive = (False, True) if self.sensor_open_high else (True, False)
            self._sensor.when_activated = lambda: self._sensor_changed(active)
            self._sensor.when_deactivated = lambda: self._sensor_changed(inactive)
            if self.is_open:
                self._sensor_changed(True)
                return
        self._set_status("ready", "closed" if self.has_sensor else "ready (no sensor)")

    def _close(self) -> None:
        super()._close()
        for device in (self._sensor, self._solenoid):
            if device is not None:
                device.close()
        self._sensor = self._solenoid = None

    def _fire(self) -> None:
        if self._solenoid is None:
            raise DrawerError(self.status.message)
        self._solenoid.blink(on_time=self.pulse_ms / 1000, off_time=0, n=1, background=False)


class PrinterDrawer(Drawer):
    """A drawer plugged into the printer's drawer port, opened with ESC p on pin 2 or 5."""

    def __init__(self, printer: Printer, *, kick_pin: int = 2, **kwargs):
        super().__init__(**kwargs)
        if kick_pin not in (2, 5):
            raise ValueError(f"drawer.kick_pin: {kick_pin} should be 2 or 5")
        self.printer = printer
        self.kick_pin = kick_pin

    def describe(self) -> str:
        return f"via printer {self.printer.describe()}, pin {self.kick_pin}"

    def _open(self) -> None:
        self._set_status("ready", "ready (no sensor)")

    def _fire(self) -> None:
        if self.printer.closed:
            raise DrawerError("the printer is not in use, so it cannot open the drawer")
        try:
            self.printer.kick(self.kick_pin, self.pulse_ms)
        except HardwareError as exc:
            raise DrawerError(f"the printer cannot open the drawer: {exc}") from exc


class SimDrawer(GpioDrawer):
    """A GpioDrawer on gpiozero's mock pins whose solenoid opens a simulated sensor.

    `push_closed()` closes it (as a cashier would); `jammed = True` makes pulses fail to open
    it; `auto_close_after` closes it by itself after that many seconds."""

    def __init__(
        self,
        *,
        jammed: bool = False,
        auto_close_after: float | None = None,
        **kwargs,
    ):
        from gpiozero.pins.mock import MockFactory

        super().__init__(
            17, sensor_pin=27, sensor_open_high=False, pin_factory=MockFactory(), **kwargs
        )
        self.jammed = jammed
        self.auto_close_after = auto_close_after
        self.pulses: list[float] = []

    def describe(self) -> str:
        return "simulated drawer"

    def _open(self) -> None:
        from gpiozero.pins.mock import MockPin

        drawer = self

        class SolenoidPin(MockPin):
            def _change_state(self, value):
                changed = super()._change_state(value)
                if changed and value:
                    drawer._solenoid_fired()
                return changed

        self.pin_factory.pin(self.pin, pin_class=SolenoidPin)
        super()._open()

    def _solenoid_fired(self) -> None:
        self.pulses.append(time.monotonic())
        if self.jammed:
            return
        self.pin_factory.pin(self.sensor_pin).drive_low()
        if self.auto_close_after is not None:
            timer = threading.Timer(self.auto_close_after, self.push_closed)
            timer.daemon = True
            timer.start()

    def push_closed(self) -> None:
        """Close the simulated drawer."""
        if not self.closed:
            self.pin_factory.pin(self.sensor_pin).drive_high()
