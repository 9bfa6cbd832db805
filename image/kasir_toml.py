"""The example kasir.toml that goes on the SD card's boot partition, written from the till's
own list of keys so that it always names every key, its default and what it does.

    $ python3 -m image.kasir_toml > kasir.toml
"""

from __future__ import annotations

import json

from appliance.config import KEYS, SECTIONS

INTRO = """\
# Kasir till configuration: edit this file on any computer (it is on the SD card's boot
# partition) before the till's first boot.
#
# Every key is listed with its default, commented out with '#'. Remove the '#' in front of a
# key to set it. The till never writes this file; settings changed on the till override it.
# First boot applies [system] and [wifi], joins the OMS named in [oms], and then REMOVES the
# Wi-Fi password and the enrolment code from this file. To apply [system] and [wifi] again
# later, put an empty file named kasir-reconfigure next to this one and restart the till.
"""

ORDER = [
    "store",
    "till",
    "display",
    "oms",
    "system",
    "wifi",
    "scanner",
    "printer",
    "drawer",
    "barcodes",
    "update",
]


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")


def render_example() -> str:
    sections = [s for s in ORDER if s in SECTIONS] + [s for s in SECTIONS if s not in ORDER]
    out = [INTRO]
    for section in sections:
        out.append(f"[{section}]")
        for key in KEYS.values():
            if key.section != section:
                continue
            name = key.name.split(".", 1)[1]
            note = key.help
            if key.choices:
                note += f" ({' | '.join(map(str, key.choices))})"
            if key.secret:
                note += " [secret: removed after first boot]"
            out.append(f"# {note}")
            out.append(f"#{name} = {toml_value(key.default)}")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render_example(), end="")
