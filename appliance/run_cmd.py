"""`kasir run [--simulate]`: open the touchscreen app.

    $ kasir run                          # the till: devices from the config's [scanner] etc.
    $ kasir --data-dir ./demo run --simulate --size 800x480

`--simulate` uses the simulated scanner, printer (receipts go to DATA/sim-printer as ESC/POS,
text and PNG) and drawer whatever the config says, and sets up the bundled demo catalog in an
empty data directory with the same code as `kasir init --demo` (the manager PIN is printed
once). Kivy is configured here, before it is imported: it must not read this program's command
line (KIVY_NO_ARGS) or write outside the data directory (KIVY_HOME).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="simulated scanner, printer and drawer; an empty data directory gets the demo store",
    )
    parser.add_argument(
        "--windowed", action="store_true", help="a window instead of the full screen"
    )
    parser.add_argument(
        "--size", metavar="WxH", help="window size, e.g. 800x480 (implies --windowed)"
    )


def kivy_environment(data_dir: Path) -> None:
    """Environment Kivy reads when it is first imported."""
    os.environ["KIVY_NO_ARGS"] = "1"
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")
    kivy_home = data_dir / "kivy"
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_HOME", str(kivy_home))


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size {text!r}: write WIDTHxHEIGHT, e.g. 800x480") from None
    if not (200 <= width <= 10000 and 200 <= height <= 10000):
        raise ValueError(f"--size {text!r}: width and height should be 200 to 10000 pixels")
    return width, height


def configure_window(*, fullscreen: bool, size: tuple[int, int], show_cursor: bool) -> None:
    """Kivy's window settings; call before kivy.core.window is imported."""
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")  # Escape must not close the till
    Config.set("kivy", "keyboard_mode", "system")
    Config.set("kivy", "log_level", "warning")
    Config.set("input", "mouse", "mouse,multitouch_on_demand")  # no red dots on right click
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "show_cursor", "1" if show_cursor else "0")
    Config.set("graphics", "resizable", "0" if fullscreen else "1")


def demo_setup(config, data_dir: Path) -> None:
    """The demo store, made by the code `kasir init --demo` runs."""
    from .cli import Till as CliTill
    from .cli import cmd_init

    args = argparse.Namespace(demo=True, manager_name="Manager", staff=None, pin=None)
    cmd_init(CliTill(config, data_dir, args))


class RunError(RuntimeError):
    """The till cannot start; the message says why."""


def prepare(args: argparse.Namespace, config, data_dir: Path):
    """Open the store (setting up the demo one for --simulate) and configure Kivy; returns the
    app, not yet running, and the database to close after it."""
    from .store.db import StoreError, open_store, store_path

    data_dir = Path(data_dir)
    try:
        size = parse_size(args.size) if args.size else None
        if size is None and config["display.size"]:
            size = parse_size(config["display.size"])
    except ValueError as exc:
        raise RunError(str(exc)) from None
    if args.simulate:
        data_dir.mkdir(parents=True, exist_ok=True)
    elif not store_path(data_dir).exists():
        raise RunError(
            f"no till store in {data_dir}: run `kasir init` first "
            "(or `kasir run --simulate` for a demo)"
        )
    try:
        database = open_store(store_path(data_dir))
    except StoreError as exc:
        raise RunError(str(exc)) from None
    try:
        config.attach_store()
        if args.simulate:
            from . import roster

            if not roster.has_manager():
                demo_setup(config, data_dir)
        kivy_environment(data_dir)
        windowed = args.windowed or bool(args.size) or not config["display.fullscreen"]
        configure_window(
            fullscreen=not windowed,
            size=size or (800, 480),
            show_cursor=config["display.show_cursor"] or windowed,
        )
        from .app import KasirApp, Till

        return KasirApp(Till(config, data_dir, simulate=args.simulate)), database
    except BaseException:
        database.close()
        raise


def run(args: argparse.Namespace, config, data_dir: Path) -> int:
    """Open the store, run the app until it is closed; returns the exit status."""
    try:
        app, database = prepare(args, config, data_dir)
    except RunError as exc:
        print(f"kasir: {exc}", file=sys.stderr)
        return 2
    try:
        app.run()
        return 0
    finally:
        database.close()
