"""A real Kivy window (SDL2 offscreen through Mesa, or Xvfb when DISPLAY is set) and a till
app on a real store with the demo catalog, simulated devices and known staff PINs.

Kivy reads its environment when it is first imported, so it is set here, before anything
imports kivy: not this test run's argv, no log files, a throwaway KIVY_HOME.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_KIVY_HOME = tempfile.mkdtemp(prefix="kasir-kivy-")
os.environ["KIVY_NO_ARGS"] = "1"
os.environ["KIVY_NO_CONSOLELOG"] = "1"
os.environ["KIVY_NO_FILELOG"] = "1"
os.environ["KIVY_HOME"] = _KIVY_HOME
os.environ["KIVY_WINDOW"] = "sdl2"
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
if not os.environ.get("DISPLAY"):
    os.environ["SDL_VIDEODRIVER"] = "offscreen"
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pytest  # noqa: E402
from kivy.config import Config  # noqa: E402

from appliance.run_cmd import configure_window  # noqa: E402

# The offscreen GL surface keeps the size the window was created with: make it big enough
# for every size the tests use (they set Window.size), or a bigger window renders garbage.
# Under Xvfb give it a screen that holds it: xvfb-run -s "-screen 0 1920x1400x24" pytest ...
configure_window(fullscreen=False, size=(1280, 1280), show_cursor=True)
# No frame-rate cap: the tests advance the clock by hand and need not wait for 60 Hz.
Config.set("graphics", "maxfps", "0")

from tests.oms.conftest import (  # noqa: E402, F401 - the OMS fixtures, found by name
    OmsServer,
    _oms_templates,
    fresh_database,
    oms_backend,
    oms_server,
)
from tests.ui.driver import UiDriver, make_template  # noqa: E402

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    """A store with the demo catalog and staff, made once and copied for each test."""
    return make_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def ui(template, tmp_path, request):
    data = tmp_path / "data"
    shutil.copytree(template, data)
    options = getattr(request, "param", {}) or {}
    driver = UiDriver(data, **options)
    driver.start()
    yield driver
    driver.stop()


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_KIVY_HOME, ignore_errors=True)
