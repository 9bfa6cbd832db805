"""Cash drawers on gpiozero's MockFactory, through the printer, and the simulated twin."""

from __future__ import annotations

import threading

import pytest
from gpiozero.pins.mock import MockPin
from hwhelpers import wait_until

from appliance.hw.drawer import (
    DrawerError,
    DrawerOpenError,
    GpioDrawer,
    PrinterDrawer,
    SimDrawer,
)
from appliance.hw.printer import SimPrinter

SOLENOID, SENSOR = 17, 27


def pulses(pin) -> list[float]:
    """Lengths (s) of the high pulses recorded on a mock output pin."""
    states = pin.states
    return [states[i + 1].timestamp for i in range(len(states) - 1) if states[i].state]


def wire_drawer(factory, *, opens=True):
    """Make the mock solenoid pin open the drawer: the sensor switch closes to ground when
    the drawer springs out (pulled up, so low = open)."""
    sensor = factory.pin(SENSOR)

    class Solenoid(MockPin):
        def _change_state(self, value):
            changed = super()._change_state(value)
            if changed and value and opens:
                sensor.drive_low()
            return changed

    return factory.pin(SOLENOID, pin_class=Solenoid), sensor


@pytest.mark.parametrize("pulse_ms", [50, 150])
def test_pulse_length_on_the_pin(mock_pins, pulse_ms):
    with GpioDrawer(SOLENOID, pulse_ms=pulse_ms) as drawer:
        drawer.pulse()
        lengths = pulses(mock_pins.pin(SOLENOID))
    assert len(lengths) == 1
    assert pulse_ms / 1000 <= lengths[0] < pulse_ms / 1000 + 0.5
    assert mock_pins.pin(SOLENOID).state is False  # never left energised


def test_sensor_open_and_closed(mock_pins):
    events = []
    solenoid, sensor = wire_drawer(mock_pins)
    drawer = GpioDrawer(
        SOLENOID,
        sensor_pin=SENSOR,
        when_opened=lambda: events.append("opened"),
        when_closed=lambda: events.append("closed"),
    )
    with drawer:
        assert drawer.is_open is False and drawer.status.message == "closed"
        drawer.pulse()
        assert drawer.is_open is True and drawer.status.message == "open"
        sensor.drive_high()
        assert drawer.is_open is False
    assert events == ["opened", "closed"]
    assert len(pulses(solenoid)) == 1


def test_refuses_to_pulse_while_it_reads_open(mock_pins):
    solenoid, sensor = wire_drawer(mock_pins)
    with GpioDrawer(SOLENOID, sensor_pin=SENSOR) as drawer:
        sensor.drive_low()  # someone opened it with the key
        assert drawer.is_open
        with pytest.raises(DrawerOpenError, match="already open — close it first") as refused:
            drawer.pulse()
        assert "flip [drawer] sensor_open_high" in str(refused.value)
    assert pulses(solenoid) == []


def test_left_open_alert(mock_pins):
    _, sensor = wire_drawer(mock_pins)
    alerted = threading.Event()
    seconds = []

    def alert(after):
        seconds.append(after)
        alerted.set()

    drawer = GpioDrawer(SOLENOID, sensor_pin=SENSOR, left_open_after=0.2, when_left_open=alert)
    with drawer:
        drawer.pulse()
        assert alerted.wait(5)
        assert seconds[0] >= 0.2
        assert drawer.status.state == "warning"
        assert drawer.status.message.startswith("drawer left open for")
        sensor.drive_high()
        assert drawer.status.state == "ready"


def test_no_alert_when_closed_in_time(mock_pins):
    _, sensor = wire_drawer(mock_pins)
    alerts = []
    with GpioDrawer(
        SOLENOID, sensor_pin=SENSOR, left_open_after=0.3, when_left_open=alerts.append
    ) as drawer:
        drawer.pulse()
        sensor.drive_high()
        threading.Event().wait(0.45)
    assert alerts == []


def test_a_drawer_that_does_not_open_is_pulsed_twice_then_reported(mock_pins):
    solenoid, _ = wire_drawer(mock_pins, opens=False)
    with GpioDrawer(SOLENOID, sensor_pin=SENSOR, confirm_within=0.1) as drawer:
        with pytest.raises(DrawerError, match="pulsed twice but the sensor still reads closed"):
            drawer.pulse()
        assert drawer.status.state == "warning"
    assert len(pulses(solenoid)) == 2


def test_sensor_open_high_polarity(mock_pins):
    sensor = mock_pins.pin(SENSOR)
    with GpioDrawer(SOLENOID, sensor_pin=SENSOR, sensor_open_high=True) as drawer:
        assert drawer.is_open is True  # pulled up and nothing pulls it down: open
        sensor.drive_low()
        assert drawer.is_open is False
        with GpioDrawer(18, sensor_pin=22) as default:
            assert default.is_open is False  # default polarity: high is closed
            mock_pins.pin(22).drive_low()
            assert default.is_open is True


def test_pin_in_use_is_explained(mock_pins):
    with GpioDrawer(SOLENOID):
        second = GpioDrawer(SOLENOID).open()
        assert second.status.state == "offline"
        assert second.status.message == (
            "GPIO 17 is already used by another device — pick another [drawer] pin"
        )
        with pytest.raises(DrawerError, match="already used"):
            second.pulse()
        second.close()


def test_no_gpio_on_this_machine_is_explained():
    from gpiozero import Device

    previous = Device.pin_factory
    Device.pin_factory = None
    try:
        with pytest.warns(Warning), GpioDrawer(SOLENOID) as drawer:
            assert drawer.status.state == "offline"
            assert "no GPIO on this machine" in drawer.status.message
            assert 'type = "sim" or "printer"' in drawer.status.message
    finally:
        Device.pin_factory = previous


def test_pulse_length_is_checked():
    with pytest.raises(ValueError, match=r"drawer.pulse_ms: 900 ms"):
        GpioDrawer(SOLENOID, pulse_ms=900)


# -- through the printer ---------------------------------------------------------------------------


def test_printer_kicked_drawer(tmp_path):
    with SimPrinter(tmp_path, 42, png=False) as printer:
        drawer = PrinterDrawer(printer, kick_pin=5, pulse_ms=120)
        with drawer:
            drawer.pulse()
            assert printer.kicks == [(5, 120)]
            assert drawer.is_open is None
            printer.paper = "end"
            with pytest.raises(DrawerError, match=r"cannot open the drawer: .*out of paper"):
                drawer.pulse()
            assert printer.kicks == [(5, 120)]
    with (
        PrinterDrawer(printer) as drawer,
        pytest.raises(DrawerError, match="printer is not in use"),
    ):
        drawer.pulse()
    with pytest.raises(ValueError, match=r"drawer.kick_pin: 3"):
        PrinterDrawer(printer, kick_pin=3)


# -- the simulated drawer --------------------------------------------------------------------------


def test_sim_drawer_opens_refuses_and_closes():
    with SimDrawer(pulse_ms=20) as drawer:
        assert drawer.is_open is False
        drawer.pulse()
        assert drawer.is_open is True
        with pytest.raises(DrawerOpenError):
            drawer.pulse()
        drawer.push_closed()
        assert drawer.is_open is False
        drawer.pulse()
        assert len(drawer.pulses) == 2


def test_sim_drawer_jammed_and_auto_closing():
    jammed = SimDrawer(pulse_ms=20, jammed=True, confirm_within=0.05)
    with jammed, pytest.raises(DrawerError, match="locked with its key, jammed"):
        jammed.pulse()
    with SimDrawer(pulse_ms=20, auto_close_after=0.05) as drawer:
        drawer.pulse()
        assert wait_until(lambda: drawer.is_open is False)
