"""Fixtures for the device tests: a pseudo-terminal serial line, a TCP printer on loopback,
gpiozero's MockFactory as the pin factory, a loopback port nothing listens on."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# pytest runs with --import-mode=importlib: put this directory's helper modules (hwhelpers,
# escpos_text) on the path for the test modules to import.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from hwhelpers import FakeNetworkPrinter, PtyPort, free_port


@pytest.fixture
def pty_port(tmp_path):
    port = PtyPort(tmp_path / "ttyScanner")
    yield port
    port.close()


@pytest.fixture
def network_printer():
    server = FakeNetworkPrinter()
    yield server
    server.close()


@pytest.fixture
def closed_port() -> int:
    return free_port()


@pytest.fixture
def mock_pins():
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    previous = Device.pin_factory
    factory = MockFactory()
    Device.pin_factory = factory
    yield factory
    factory.reset()
    Device.pin_factory = previous
