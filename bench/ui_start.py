"""Cold start of the till's app to its first drawn login frame, against a bare Kivy app.

    .venv/bin/python bench/ui_start.py [--rounds 5] [--dir /tmp]

Each run is a new Python process, timed by this script from just before it starts until the
child writes that its first frame is on the window (Window.on_flip), when it quits:

- till: `appliance.run_cmd.prepare` then `app.run()`, exactly what `kasir run --simulate
  --size 800x480` does, on a data directory set up once beforehand with the demo catalog (so
  the set-up is not timed). The child also checks that this first frame shows the login
  screen.
- bare: the same interpreter and Kivy settings, an App whose root is one Label.
- till-only packages (for information): the till again with psycopg hidden. A till installs
  `kasir[till]`, which has no PostgreSQL driver; a development venv has the OMS's psycopg too,
  and peewee imports it when it finds it (~100 ms here), so this is what a till would measure.

Without a display the windows are drawn by SDL's offscreen driver (Mesa). Rounds alternate which
runs first. Absolute times (medians) are printed; the last line is `ratio=<till / bare>`, the
median of each round's ratio, in this environment as it is; the goal is <= 2.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMON = """
import os, sys
sys.path.insert(0, {root!r})
os.environ["KIVY_NO_ARGS"] = "1"
os.environ["KIVY_NO_CONSOLELOG"] = "1"
os.environ["KIVY_NO_FILELOG"] = "1"
os.environ["KIVY_HOME"] = {kivy_home!r}
"""

BARE = (
    COMMON
    + """
from appliance.run_cmd import configure_window
configure_window(fullscreen=False, size=(800, 480), show_cursor=True)
from kivy.app import App
from kivy.uix.label import Label
from kivy.core.window import Window

class Bare(App):
    def build(self):
        Window.bind(on_flip=self.flipped)
        return Label(text="Kasir")

    def flipped(self, *_args):
        Window.unbind(on_flip=self.flipped)
        print("FIRST_FRAME", flush=True)
        self.stop()

Bare().run()
"""
)

HIDE_AT = "import argparse\n"
HIDE_PSYCOPG = "sys.modules['psycopg'] = None  # as on a till: kasir[till] has no psycopg\n"

TILL = (
    COMMON
    + """
import argparse
from appliance.config import Config
from appliance.run_cmd import prepare
config = Config.load(None, env={{}}, cli={{"till.data_dir": {data!r}}})
args = argparse.Namespace(simulate=True, windowed=True, size="800x480")
app, database = prepare(args, config, {data!r})
from kivy.core.window import Window

def flipped(*_args):
    Window.unbind(on_flip=flipped)
    print("FIRST_FRAME", app.sm.current, flush=True)
    app.stop()

Window.bind(on_flip=flipped)
app.run()
database.close()
"""
)


def timed(script: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL,
        env=env,
        text=True,
        cwd=ROOT,
    )
    line = child.stdout.readline()
    elapsed = time.perf_counter() - start
    child.wait(60)
    if not line.startswith("FIRST_FRAME"):
        raise SystemExit(f"the child did not draw a frame (exit {child.returncode}): {line!r}")
    return elapsed, line.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", default=None, help="where the demo data directory goes")
    args = parser.parse_args()

    env = dict(os.environ)
    if not env.get("DISPLAY"):
        env["SDL_VIDEODRIVER"] = "offscreen"
    env.setdefault("SDL_AUDIODRIVER", "dummy")
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="kasir-ui-start-") as tmp:
        data = Path(tmp) / "data"
        kivy_home = Path(tmp) / "kivy"
        kivy_home.mkdir()
        # The demo store, made once by the code `kasir init --demo` runs (not timed).
        setup = subprocess.run(
            [sys.executable, "-m", "appliance.cli", "--data-dir", str(data), "init", "--demo"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if setup.returncode != 0:
            raise SystemExit(f"setting up the demo store failed: {setup.stderr}")
        fmt = {"root": str(ROOT), "kivy_home": str(kivy_home), "data": str(data)}
        # Scripts in files, not `python -c`: Kivy looks for the app's module file.
        bare_code, till_code = Path(tmp) / "bare.py", Path(tmp) / "till.py"
        lean_code = Path(tmp) / "till_lean.py"
        bare_code.write_text(BARE.format(**fmt))
        till_code.write_text(TILL.format(**fmt))
        lean_code.write_text(TILL.format(**fmt).replace(HIDE_AT, HIDE_AT + HIDE_PSYCOPG, 1))
        timed(bare_code, env)  # warm the disk cache and Kivy's config for both
        timed(till_code, env)
        bare, till, lean, ratios, lean_ratios = [], [], [], [], []
        for round_no in range(args.rounds):
            if round_no % 2 == 0:
                b, _ = timed(bare_code, env)
                t, line = timed(till_code, env)
            else:
                t, line = timed(till_code, env)
                b, _ = timed(bare_code, env)
            if line != "FIRST_FRAME login":
                raise SystemExit(f"the till's first frame was not the login screen: {line!r}")
            n, _ = timed(lean_code, env)
            bare.append(b)
            till.append(t)
            lean.append(n)
            ratios.append(t / b)
            lean_ratios.append(n / b)
    print(f"bare Kivy app, first frame:   {statistics.median(bare) * 1000:7.0f} ms (median)")
    print(f"till, first login frame:      {statistics.median(till) * 1000:7.0f} ms (median)")
    print(
        f"till, till-only packages:     {statistics.median(lean) * 1000:7.0f} ms (median), "
        f"ratio {statistics.median(lean_ratios):.2f} (for information)"
    )
    print(f"rounds: {args.rounds}; till/bare per round: " + ", ".join(f"{r:.2f}" for r in ratios))
    print(f"ratio={statistics.median(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
