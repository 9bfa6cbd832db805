"""Barcode → priced cart line on a 100k-product catalog, against a raw indexed SELECT.

    $ .venv/bin/python bench/lookup.py [--products 100000] [--lookups 10000]

Builds a catalog of `--products` products (one EAN-13 each, every 20th also a carton GTIN-14)
in a temporary SQLite store through the catalog import, then times `--lookups` scans of
randomly chosen barcodes:

* service: `appliance.cart.Cart.scan(code)` (parse, lookup, promotions, a new cart line), or —
  while the cart has no `scan` — `appliance.catalog.lookup_barcode` plus `retail.tax.line_tax`;
* baseline: `SELECT ... FROM barcode JOIN product ... WHERE code = ?` with `sqlite3` on the same
  file with the same pragmas (the stored key, so no parsing).

The two are timed in alternating blocks so that a busy machine slows both alike. Prints the
absolute p50/p90/p99/max of each (a Pi 4 is ~5x slower) and, last,
`ratio=<service p99 / raw p99>`. Goal: <= 3. On a machine busy with other work, wall-clock p99s
mostly measure the scheduler; `--clock cpu` times this process's CPU only.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance import catalog
from appliance.config import Config
from appliance.store.catalog_import import import_catalog
from appliance.store.db import PRAGMAS, open_store
from retail.barcodes import check_digit
from retail.tax import line_tax

RAW_SQL = (
    "SELECT p.id, p.sku, p.name, p.price, p.tax_code, p.category_id, p.unit, p.plu, b.pack_qty "
    "FROM barcode b JOIN product p ON p.id = b.product_id WHERE b.code = ?"
)
BLOCK = 500


def build_csv(n: int) -> tuple[str, list[str]]:
    lines = ["sku,name,price,barcode,tax,category,stock"]
    codes = []
    for i in range(n):
        body = f"899{2_000_000 + i:09d}"
        code = body + str(check_digit(body))
        codes.append(code)
        cell = code
        if i % 20 == 0:
            carton = "1" + body
            carton += str(check_digit(carton))
            codes.append(carton)
            cell += f"|{carton}*24"
        tax = ("PPN", "PPN", "PPN", "FREE", "LUX")[i % 5]
        lines.append(
            f"SKU{i:06d},Produk nomor {i},{500 + (i * 37) % 200_000},{cell},{tax},K{i % 60},{i % 90}"
        )
    return "\n".join(lines) + "\n", codes


def p(samples: list[int], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000  # µs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="barcode lookup benchmark")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="the clock of the final ratio: this process's CPU time (default; steady on a "
        "machine shared with other work) or wall time (what a cashier waits, on a quiet till)",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kasir.sqlite3"
        store = open_store(path)
        config = Config({}, env={}, cli={"till.data_dir": tmp})
        config.attach_store()
        text, codes = build_csv(args.products)
        started = time.perf_counter()
        result = import_catalog(text, config)
        print(f"import of {result.created} products: {time.perf_counter() - started:.1f} s")

        raw = sqlite3.connect(str(path))
        for name, value in PRAGMAS.items():
            raw.execute(f"PRAGMA {name} = {value}")
        keys = {code: code for code in codes}
        inclusive = config["store.prices_include_tax"]

        def raw_select(code: str) -> None:
            raw.execute(RAW_SQL, (keys[code],)).fetchone()

        def lookup(code: str) -> None:
            catalog.lookup_barcode(code)

        def lookup_priced(code: str) -> None:
            match = catalog.lookup_barcode(code)
            line_tax(match.product.price * match.qty, match.product.tax, inclusive=inclusive)

        paths = {
            "raw sqlite3 SELECT": raw_select,
            "catalog.lookup_barcode": lookup,
            "lookup_barcode + line_tax": lookup_priced,
        }
        service = "lookup_barcode + line_tax"
        try:
            from appliance.cart import Cart
        except ImportError:
            Cart = None
        if Cart is not None and hasattr(Cart, "scan"):
            cart = Cart(config)

            def cart_scan(code: str) -> None:
                cart.scan(code)
                # A new line each time, as for a different product; not part of the scan.
                cart.lines.clear()

            paths["Cart.scan"] = cart_scan
            service = "Cart.scan"

        rng = random.Random(7)
        sample = [rng.choice(codes) for _ in range(args.lookups)]
        for code in sample[:1000]:  # warm the page and statement caches
            for run in paths.values():
                run(code)

        timings: dict[tuple[str, str], list[int]] = {}
        for clock_name, clock in (("cpu", time.process_time_ns), ("wall", time.perf_counter_ns)):
            for name in paths:
                timings[clock_name, name] = []
            # Alternating blocks, so that a busy machine slows every path alike.
            for start in range(0, len(sample), BLOCK):
                block = sample[start : start + BLOCK]
                for name, run in paths.items():
                    out = timings[clock_name, name]
                    for code in block:
                        t0 = clock()
                        run(code)
                        out.append(clock() - t0)
        raw.close()
        store.close()

    print(f"{args.lookups} lookups of {len(codes)} barcodes; service = {service}")
    for clock_name in ("cpu", "wall"):
        base = p(timings[clock_name, "raw sqlite3 SELECT"], 0.99)
        print(f"{clock_name} clock:")
        for name in paths:
            samples = timings[clock_name, name]
            print(
                f"  {name:28s} p50 {p(samples, 0.5):7.1f} µs  p90 {p(samples, 0.9):7.1f} µs  "
                f"p99 {p(samples, 0.99):7.1f} µs  (x{p(samples, 0.99) / base:.2f})"
            )
    ratio = p(timings[args.clock, service], 0.99) / p(
        timings[args.clock, "raw sqlite3 SELECT"], 0.99
    )
    print(f"ratio={ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
