"""A till's checkout in a process of its own: it sells through the services until stopped.

    python tests/sync/_seller.py DATA_DIR DONE_FILE MANAGER CASHIER SEED [PACE]
    python tests/sync/_seller.py --serve DATA_DIR DONE_FILE MANAGER CASHIER   # SEED PACE lines

Opens the store in DATA_DIR (as the till app does, also after a power cut), prints `ready PID`,
then completes sales (several lines: scanned, by sku, weighed, pack barcodes, discounts,
cash/card/QRIS and splits), some refunds of its own recent sales (restocked or not) and a few
training sales, PACE seconds apart, as the staff members named MANAGER and CASHIER, until
SIGTERM (it finishes the sale under way and exits 0) or SIGKILL (a power cut). With `--serve`
it forks one such seller per `SEED PACE` line read on stdin (see `serve`). The shift must be
open already (`kasir shift open`): a seller never opens or closes one, so the Z report covers
all it sold.

Before each sale it appends to DONE_FILE `{"kind": "begin", "lines": [...]}` (the cart's line
ids, which become the sale lines' ids), and after the service returns what it was told:
`{"kind": "sale"|"refund", "receipt": ..., "id": ..., "training": ...}`, one `write` per
record. A record missing because of a kill is fine (the sale may or may not be there); a record
present names something that must be in the till and, unless training, in the OMS.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from appliance import identity, refunds, shifts
from appliance.checkout import complete_sale
from appliance.config import Config
from appliance.staff import StaffInfo
from appliance.store.db import open_store, store_path
from appliance.store.models import db
from tests.appliance._sale_writer import build_cart, recent_refundable, sellable, tenders_for

stopping = False


def _stop(*_) -> None:
    global stopping
    stopping = True


class Done:
    def __init__(self, path: str):
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, **record) -> None:
        os.write(self.fd, (json.dumps(record) + "\n").encode())


def staff_named(name: str) -> StaffInfo:
    row = db.execute_sql("SELECT id, name, role FROM staff WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise SystemExit(f"no staff member called {name!r}")
    return StaffInfo(*row)


def refund_recent(rng: random.Random, config, done: Done, staff, manager) -> None:
    found = recent_refundable(rng, 20)
    if found is None:
        return
    receipt_no, left = found
    lines = None
    if rng.random() < 0.6:
        picked = rng.sample(left, rng.randint(1, len(left)))
        lines = {no: rng.randint(1, qty) for no, qty in picked}
    result = refunds.refund(
        receipt_no,
        config=config,
        staff=staff,
        approver=manager,
        lines=lines,
        to=rng.choice(("cash", "original")),
        reason="changed mind",
        restock=rng.random() < 0.7,
    )
    done.write(kind="refund", receipt=result.receipt_no, id=result.refund_id, training=False)


def sell(rng: random.Random, config, done: Done, staff, manager, goods) -> None:
    cart = build_cart(rng, config, *goods, manager)
    done.write(kind="begin", lines=[line.key for line in cart.lines])
    result = complete_sale(cart, tenders_for(rng, cart.priced().total), staff=staff, config=config)
    done.write(
        kind="sale", receipt=result.receipt_no, id=result.sale_id, training=identity.training_mode()
    )


def sell_until_stopped(
    data_dir: str, done_path: str, manager_name: str, cashier_name: str, seed: int, pace: float
) -> int:
    signal.signal(signal.SIGTERM, _stop)
    open_store(store_path(data_dir))
    config = Config(env={}, cli={"till.data_dir": data_dir})
    config.attach_store()
    if shifts.current() is None:
        print("no shift is open: run `kasir shift open` first", file=sys.stderr)
        return 3
    manager, cashier = staff_named(manager_name), staff_named(cashier_name)
    identity.set_training_mode(False)  # a power cut may have left it on
    goods = sellable()
    done = Done(done_path)
    rng = random.Random(seed)
    print(f"ready {os.getpid()}", flush=True)
    while not stopping:
        roll = rng.random()
        if roll < 0.1:
            refund_recent(rng, config, done, cashier, manager)
        elif roll < 0.13:
            identity.set_training_mode(True)
            sell(rng, config, done, cashier, manager, goods)
            identity.set_training_mode(False)
        else:
            sell(rng, config, done, rng.choice((cashier, manager)), manager, goods)
        if pace:
            time.sleep(pace * rng.uniform(0.5, 1.5))
    return 0


def serve(data_dir: str, done_path: str, manager_name: str, cashier_name: str) -> None:
    """One seller per `SEED PACE` line on stdin, each in a child forked from this process (the
    imports are paid once; the store is opened after the fork, as after a power cut). Prints
    `exit PID STATUS` (the raw wait status) when the child ends."""
    for command in sys.stdin:
        seed, pace = command.split()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = sell_until_stopped(
                    data_dir, done_path, manager_name, cashier_name, int(seed), float(pace)
                )
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(f"exit {pid} {status}", flush=True)


def main() -> int:
    if sys.argv[1] == "--serve":
        serve(*sys.argv[2:6])
        return 0
    data_dir, done_path, manager_name, cashier_name = sys.argv[1:5]
    pace = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
    return sell_until_stopped(
        data_dir, done_path, manager_name, cashier_name, int(sys.argv[5]), pace
    )


if __name__ == "__main__":
    sys.exit(main())
