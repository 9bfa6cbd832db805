"""A power cut during checkout, then sync: no sale half-delivered, none twice.

One till made with the `kasir` CLI and enrolled with a real OMS (once per backend, SQLite and
PostgreSQL). A seller (`_seller.py --serve`: each seller a child forked from one server process,
opening the store after the fork as a till does after a power cut) sells flat out and is
SIGKILLed at random moments, KILLS times; during some of those runs a `kasir sync --once` runs
alongside. Then `kasir sync --once` is repeated until the outbox is empty.

Checked: the till's file is intact with gap-free numbers after the cuts; every sale and refund
the till holds is in the OMS exactly once with the very same lines, payments and totals (none
half there, none twice, none the till does not have), and nothing the seller was told was done
is missing; every event was accepted once, no gaps, nothing rejected; stock moved in the OMS
as the till's ledger says (units, and grams for the weighed item).

`KASIR_POWER_CUT_SEED` replays a run; a failure names the seed.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.sync.tillrig import (
    REPO,
    SELLER,
    STORE,
    Proc,
    Till,
    compare,
    enrol_code,
    kasir_argv,
    oms_stock,
    oms_view,
    tail,
    wait_until,
)

pytestmark = pytest.mark.timeout(300)

KILLS = 12
SYNC_ALONGSIDE = (2, 5, 8, 11)  # runs during which `kasir sync --once` runs too
SEED = int(os.environ.get("KASIR_POWER_CUT_SEED", random.randrange(1 << 30)))


def test_power_cuts_during_checkout_then_sync(oms_server, tmp_path):
    rng = random.Random(SEED)
    till = Till(tmp_path, "till1", oms_server.url, timeout=10)
    till.setup(enrol_code(oms_server, STORE, "Kasir 1"))
    stock_before = oms_stock(oms_server)
    server = Proc(
        "sellers",
        [
            sys.executable,
            str(SELLER),
            "--serve",
            str(till.dir),
            str(till.done_file),
            till.manager,
            till.cashier,
        ],
        till.dir / "seller.log",
        till.env,
        stdin=True,
    ).start()
    syncs: list = []
    running = 0  # the seller of the current run, until it is reaped

    def diagnostics() -> str:
        once = till.dir / "sync-once.log"
        return (
            f"seed {SEED}\n-- seller log:\n{tail(server.log())}\n-- sync runs:\n"
            + "\n".join(till.cli_log[-4:])
            + (f"\n-- sync runs alongside:\n{tail(once.read_text())}" if once.exists() else "")
            + f"\n-- OMS log:\n{tail(oms_server.log())}"
        )

    try:
        for run in range(KILLS):
            mark = len(server.log())
            server.send(f"{rng.randrange(1 << 30)} 0")
            found = wait_until(
                lambda mark=mark: re.search(r"ready (\d+)", server.log()[mark:]),
                30,
                f"seller run {run} ready",
                diagnostics,
            )
            pid = running = int(found.group(1))
            if run in SYNC_ALONGSIDE:
                syncs.append(_background(till))
            time.sleep(rng.uniform(0.2, 1.2))
            os.kill(pid, signal.SIGKILL)
            ended = wait_until(
                lambda pid=pid: re.search(rf"exit {pid} (\d+)", server.log()),
                30,
                f"seller {pid} reaped",
                diagnostics,
            )
            status, running = int(ended.group(1)), 0
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
                f"seller run {run} ended on its own (status {status}), not by the power cut\n"
                + diagnostics()
            )
            for proc in syncs:
                assert proc.wait(120) == 0, (
                    f"a `kasir sync --once` alongside failed\n{diagnostics()}"
                )
            syncs.clear()
    finally:
        if running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(running, signal.SIGKILL)  # a seller left running by a failure
        server.stop(5)
        for proc in syncs:
            proc.kill()
            proc.wait(5)

    problems = _integrity(till)
    assert not problems, "\n".join(problems) + "\n" + diagnostics()
    for _ in range(10):
        if till.outbox()["pending"] == 0:
            break
        done = till.kasir("sync", "--once", check=False)
        assert done.returncode == 0, diagnostics()
    assert till.outbox()["pending"] == 0, f"not drained after 10 runs\n{diagnostics()}"

    mine = till.snapshot()
    theirs = oms_view(oms_server, mine.terminal_id)
    problems = compare(till.name, mine, theirs)
    records = [json.loads(line) for line in Path(till.done_file).read_text().splitlines()]
    for record in records:
        if record["kind"] != "begin" and not record["training"]:
            held = mine.sales if record["kind"] == "sale" else mine.refunds
            if record["id"] not in held:
                problems.append(f"{record['kind']} {record['receipt']} was completed, is gone")
    if len(mine.sales) < 10 or not mine.refunds:
        problems.append(
            f"too little sold to prove much: {len(mine.sales)} sales, {len(mine.refunds)} refunds"
        )
    stock_after = oms_stock(oms_server)
    moved = Counter(mine.stock_moved)
    for sku in sorted(stock_before):
        if stock_after[sku] != stock_before[sku] + moved[sku]:
            problems.append(
                f"stock of {sku} in the OMS {stock_after[sku]}, expected "
                f"{stock_before[sku]} {moved[sku]:+d} as the till's ledger says"
            )
    assert not problems, "\n".join(problems) + "\n" + diagnostics()
    line_ids = {r[0] for r in till.query("SELECT id FROM sale_line")}
    begun = [r["lines"] for r in records if r["kind"] == "begin"]
    acked = {r["id"] for r in records if r["kind"] == "sale"}
    print(
        f"seed {SEED}: {KILLS} power cuts; {len(mine.sales)} sales, {len(mine.refunds)} "
        f"refunds in the till and the OMS; {sum(not set(b) & line_ids for b in begun)} sales cut "
        f"before they committed, {len(set(mine.sales) - acked)} committed but never "
        "acknowledged to the seller"
    )


def _background(till: Till) -> subprocess.Popen:
    """`kasir sync --once` running while the seller sells (its output in sync-once.log)."""
    with open(till.dir / "sync-once.log", "ab") as log:
        return subprocess.Popen(
            [*kasir_argv(), "--data-dir", str(till.dir), "sync", "--once"],
            env=till.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _integrity(till: Till) -> list[str]:
    """After the cuts: an intact file, gap-free numbers (the till's own power-cut checks)."""
    from appliance.store.db import open_store
    from tests.appliance.test_power_cut import quick_check

    database = open_store(till.db_path)
    try:
        return quick_check()
    finally:
        database.close()
