"""The process that the power-cut test kills: it sells through the till's services until killed.

    python tests/appliance/_sale_writer.py DATA_DIR INTENTS_FILE

It imports the services once, then serves one line per run on stdin, `RUN SEED`: it forks a
writer that opens the store in DATA_DIR (as a till does after a power cut), prints
`ready RUN PID`, and completes sales (several lines, scanned, by sku, weighed, pack barcodes,
discounts, cash/card/QRIS and splits), refunds, training sales and shift changes in a loop
until `tests/appliance/test_power_cut.py` SIGKILLs it; then it prints `exit PID STATUS` (the
raw wait status). Forking saves the test the interpreter start and the imports on every kill.

Before each sale or refund the writer appends to INTENTS_FILE (one `write` per record, so a
kill never leaves half a record) what it means to store: the cart's line ids (they become
the sale lines' ids), the total and payments it expects, or the refund's lines and reason;
after the service returns, that it was done. The test compares these with the store.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from appliance import catalog, identity, refunds, shifts
from appliance.cart import Cart
from appliance.checkout import complete_sale
from appliance.config import Config
from appliance.staff import StaffInfo
from appliance.store.db import open_store, store_path
from appliance.store.models import db
from retail.barcodes import DEFAULT_LAYOUTS, make_variable
from retail.pricing import Discount, TenderInput, settle


class Intents:
    def __init__(self, path: str, run: int):
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.run = run

    def write(self, record: dict) -> None:
        os.write(self.fd, (json.dumps({"run": self.run, **record}) + "\n").encode())


def staff_by_role(role: str) -> StaffInfo:
    row = db.execute_sql(
        "SELECT id, name, role FROM staff WHERE role = ? AND active ORDER BY id LIMIT 1", (role,)
    ).fetchone()
    return StaffInfo(*row)


def sellable() -> tuple[list, list, list]:
    """Products sold by the piece, their barcodes (pack barcodes too), and weighed PLUs."""
    each, weighed = [], []
    for (sku,) in db.execute_sql("SELECT sku FROM product WHERE active ORDER BY sku"):
        product = catalog.lookup_sku(sku)
        (weighed if product.unit == "kg" else each).append(product)
    codes = [
        code
        for (code,) in db.execute_sql(
            "SELECT b.code FROM barcode b JOIN product p ON p.id = b.product_id "
            "WHERE p.active AND p.unit = 'each' ORDER BY b.code"
        )
    ]
    return each, codes, weighed


def build_cart(rng: random.Random, config, each, codes, weighed, manager) -> Cart:
    cart = Cart(config)
    for _ in range(rng.randint(1, 6)):
        roll = rng.random()
        if roll < 0.35:
            cart.scan(rng.choice(codes), qty=rng.randint(1, 3))
        elif roll < 0.8 or not weighed:
            cart.add_product(rng.choice(each), qty=rng.randint(1, 5))
        else:
            item = rng.choice(weighed)
            if rng.random() < 0.5:
                cart.scan(make_variable(DEFAULT_LAYOUTS[0], item.plu, rng.randint(50, 2500)))
            else:
                cart.scan(make_variable(DEFAULT_LAYOUTS[1], item.plu, rng.randint(500, 60000)))
    if rng.random() < 0.2:
        cart.discount_line(rng.randint(1, len(cart.lines)), Discount("percent", 1000))
    if rng.random() < 0.1:
        cart.discount_line(
            rng.randint(1, len(cart.lines)), Discount("amount", rng.randint(1, 2000)), manager
        )
    if rng.random() < 0.15:
        cart.discount_cart(Discount("percent", rng.choice((250, 500, 1000))))
    while cart.priced().total < 100:  # a sale must leave something to pay
        cart.add_product(rng.choice(each))
    return cart


def tenders_for(rng: random.Random, total: int) -> list[TenderInput]:
    ref = f"APPR{rng.randint(0, 999999):06d}"
    roll = rng.random()
    if roll < 0.5 or total < 2:
        return [TenderInput("cash", total + 100 + rng.randint(0, 50) * 1000)]
    if roll < 0.7:
        return [TenderInput("card", total, ref)]
    if roll < 0.8:
        return [TenderInput("qris", total, ref)]
    card = rng.randint(1, total - 1)
    return [TenderInput("card", card, ref), TenderInput("cash", total - card + 100)]


def sell(rng, config, intents, key, staff, manager, goods, *, training=False) -> None:
    cart = build_cart(rng, config, *goods, manager)
    tenders = tenders_for(rng, cart.priced().total)
    expected = settle(cart.priced().total, tenders, config["store.cash_rounding"])
    intents.write(
        {
            "kind": "sale",
            "key": key,
            "training": training,
            "lines": [line.key for line in cart.lines],
            "total": expected.due,
            "payments": [list(p) for p in expected.payments],
        }
    )
    done = complete_sale(cart, tenders, staff=staff, config=config)
    intents.write({"done": key, "receipt": done.receipt_no, "id": done.sale_id})


def recent_refundable(rng, depth: int) -> tuple[str, list[tuple[int, int]]] | None:
    """One of the last `depth` real sales, at random: (receipt number, [(line number, units
    left to refund)]); None when it has nothing left (or there are no sales yet)."""
    row = db.execute_sql(
        "SELECT id, receipt_no FROM sale WHERE training = 0 ORDER BY rowid DESC LIMIT 1 OFFSET ?",
        (rng.randint(0, depth),),
    ).fetchone()
    if row is None:
        return None
    left = db.execute_sql(
        "SELECT line_no, qty - refunded_qty FROM sale_line WHERE sale_id = ? "
        "AND refunded_qty < qty ORDER BY line_no",
        (row[0],),
    ).fetchall()
    return (row[1], left) if left else None


def refund_some(rng, config, intents, key, staff, manager) -> None:
    found = recent_refundable(rng, 40)
    if found is None:
        return
    receipt_no, left = found
    if rng.random() < 0.3:
        wanted = dict(left)
        lines = None
    else:
        picked = rng.sample(left, rng.randint(1, len(left)))
        wanted = {no: rng.randint(1, qty) for no, qty in picked}
        lines = wanted
    intents.write(
        {"kind": "refund", "key": key, "sale": receipt_no, "lines": sorted(wanted.items())}
    )
    done = refunds.refund(
        receipt_no,
        config=config,
        staff=staff,
        approver=manager,
        lines=lines,
        to=rng.choice(("cash", "original")),
        reason=key,
        restock=rng.random() < 0.8,
    )
    intents.write({"done": key, "receipt": done.receipt_no, "id": done.refund_id})


def write_forever(data_dir: str, intents_path: str, run: int, seed: int) -> None:
    open_store(store_path(data_dir))
    config = Config(env={}, cli={"till.data_dir": data_dir})
    config.attach_store()
    manager, cashier = staff_by_role("manager"), staff_by_role("cashier")
    identity.set_training_mode(False)  # a kill may have left it on
    if shifts.current() is None:
        shifts.open_shift(manager, 100_000, config)
    goods = sellable()
    intents = Intents(intents_path, run)
    rng = random.Random(seed)
    print(f"ready {run} {os.getpid()}", flush=True)
    n = 0
    while True:
        n += 1
        key = f"r{run}-{n}"
        roll = rng.random()
        if roll < 0.12:
            refund_some(rng, config, intents, key, cashier, manager)
        elif roll < 0.15:
            identity.set_training_mode(True)
            sell(rng, config, intents, key, cashier, manager, goods, training=True)
            identity.set_training_mode(False)
        elif roll < 0.17:
            shifts.close_shift(manager, rng.randint(0, 5_000_000), config)
            shifts.open_shift(manager, rng.choice((0, 100_000, 200_000)), config)
        else:
            sell(rng, config, intents, key, rng.choice((cashier, manager)), manager, goods)


def main() -> None:
    data_dir, intents_path = sys.argv[1], sys.argv[2]
    for command in sys.stdin:
        run, seed = (int(x) for x in command.split())
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                write_forever(data_dir, intents_path, run, seed)
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(f"exit {pid} {status}", flush=True)


if __name__ == "__main__":
    main()
