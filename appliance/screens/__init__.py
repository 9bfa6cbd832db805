"""The till's Kivy screens and widgets. They call the services (appliance/*.py), never the
store or the devices: devices are reached through the app's print queue and drawer services.

Layout lives in the .kv files beside each module, behaviour in Python. `load_kv()` loads them
all once per process (a second load would apply every rule twice).
"""

from __future__ import annotations

from pathlib import Path

KV_FILES = (
    "widgets.kv",
    "root.kv",
    "dialogs.kv",
    "login.kv",
    "sale.kv",
    "payment.kv",
    "refund.kv",
    "lists.kv",
    "manager.kv",
    "settings.kv",
)
_loaded = False


def load_kv() -> None:
    global _loaded
    if _loaded:
        return
    from kivy.lang import Builder

    here = Path(__file__).parent
    for name in KV_FILES:
        Builder.load_file(str(here / name))
    _loaded = True
