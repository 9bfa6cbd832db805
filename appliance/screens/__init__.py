"""The till's Kivy screens and widgets. They call the services (appliance/*.py), never the
store or the devices: devices are reached through the app's print queue and drawer services.

Layout lives in the .kv file beside each module, behaviour in Python. Each module loads its
own kv file when it is imported (`load_kv`), so the login screen does not wait for the parsing
of screens nobody has opened yet; a file is loaded once per process (a second load would apply
every rule twice).
"""

from __future__ import annotations

from pathlib import Path

_loaded: set[str] = set()


def load_kv(*names: str) -> None:
    from kivy.lang import Builder

    here = Path(__file__).parent
    for name in names:
        if name not in _loaded:
            Builder.load_file(str(here / name))
            _loaded.add(name)
