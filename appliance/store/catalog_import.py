"""Import a catalog CSV into the till's store.

    >>> result = import_catalog("katalog.csv", config)              # doctest: +SKIP
    >>> print(result)                                                # doctest: +SKIP
    198 created, 2 updated, 0 unchanged, 0 skipped; stock set for 200 products

The file is checked first (`retail.catalog_csv`). A file with any bad row imports nothing and
raises `CatalogImportError` listing every bad row; with `skip_bad=True` the good rows are
imported and the bad ones reported in the result.

Re-importing updates products by sku: name, price, barcodes, tax code, category, unit and plu
follow the file, for the columns the file has (a price-only file leaves tax codes, barcodes and
the rest alone). A listed product is made active again. Products the file does not list are
left as they are: an import adds and updates, it never deletes. A barcode or plu the file gives
to one product moves there from whatever product had it, and the result lists the moves.
A `stock` cell sets the product's on-hand figure and books the difference as a stock movement
(cause `import`); an empty cell leaves the stock alone.

The whole import is ONE transaction (`BEGIN IMMEDIATE`): after a power cut or an error the
catalog is wholly the old one or wholly the new one, never a mix. Rows are written with
`executemany` in chunks between which progress is reported. SQLite in WAL mode holds a 100k-row
transaction without trouble, and readers (lookups on the till) are not blocked by it; a sale
committing at the same moment waits for it (busy timeout), which is why an import is a job for
when the till is not selling.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retail.barcodes import DEFAULT_LAYOUTS, layouts_from_config
from retail.catalog_csv import CatalogRow, RowError, parse_catalog
from retail.ids import iso, utcnow, uuid7

from .models import db

CHUNK = 5000
BIG_IMPORT = 10_000
# progress(done, total): checking a line is one unit, writing a row another; the total is
# twice the lines of the file, an upper bound reached when the import is done.
Progress = Callable[[int, int], None]


class CatalogImportError(ValueError):
    """The file was not imported; `errors` lists every bad row (line, column, reason)."""

    def __init__(self, message: str, errors: list[RowError] | None = None):
        self.errors = list(errors or [])
        lines = [message, *(f"  {error}" for error in self.errors)]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Move:
    """A barcode or plu that the import took from one product and gave to another."""

    what: str  # "barcode" | "plu"
    code: str
    from_sku: str
    to_sku: str

    def __str__(self) -> str:
        return f"{self.what} {self.code} moved from {self.from_sku} to {self.to_sku}"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # bad rows left out (skip_bad)
    errors: list[RowError] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    stock_set: int = 0  # products whose on-hand figure the import changed
    categories_created: int = 0
    ref: str = ""  # the `ref` of this import's stock movements

    def __str__(self) -> str:
        text = (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.skipped} skipped; stock set for {self.stock_set} products"
        )
        return "\n".join([text, *(str(move) for move in self.moves)])


def read_source(path_or_text: str | bytes | os.PathLike) -> str:
    """The CSV text of a path (`os.PathLike`, or a str without a line break), or of CSV text
    given directly (a str with a line break, or bytes)."""
    if isinstance(path_or_text, str) and ("\n" in path_or_text or "\r" in path_or_text):
        return path_or_text
    if isinstance(path_or_text, bytes):
        data = path_or_text
        source = "the catalog"
    else:
        path = Path(path_or_text)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise CatalogImportError(f"catalog file {path} does not exist") from None
        except IsADirectoryError:
            raise CatalogImportError(f"catalog file {path} is a directory") from None
        except PermissionError:
            raise CatalogImportError(f"catalog file {path}: permission denied") from None
        source = str(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CatalogImportError(
            f"{source} is not UTF-8 text",
            [
                RowError(
                    line,
                    None,
                    f"byte 0x{data[exc.start]:02X} is not UTF-8: save the file as "
                    "'CSV UTF-8' in the spreadsheet",
                )
            ],
        ) from None


def _known_tax_codes() -> list[str]:
    return [row[0] for row in db.execute_sql("SELECT code FROM tax_code WHERE active")]


def import_catalog(
    path_or_text: str | bytes | os.PathLike,
    config: Any,
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a catalog CSV into the open store; see the module docstring for the rules.

    `config` is the till's `appliance.config.Config` (currency, locale, default tax code,
    variable-measure layouts). Raises `CatalogImportError` when nothing was imported.
    """
    text = read_source(path_or_text)
    rows, errors = parse_catalog(
        text,
        currency=config.currency,
        locale=config.locale,
        tax_codes=_known_tax_codes(),
        default_tax=config["store.default_tax"],
        layouts=layouts_from_config(config["barcodes.variable_layouts"]) or DEFAULT_LAYOUTS,
        progress=(lambda done, lines: progress(done, 2 * lines)) if progress else None,
    )
    bad_lines = {error.line for error in errors}
    if errors and not skip_bad:
        raise CatalogImportError(
            f"catalog not imported: {len(bad_lines)} bad row(s); fix them, or import the good "
            "rows with --skip-bad",
            errors,
        )
    if not rows:
        raise CatalogImportError("catalog not imported: no good rows", errors)
    result = ImportResult(skipped=len(bad_lines), errors=errors, ref=f"import:{uuid7()}")
    # Lines as the parser counts them (universal newlines), for one steady progress total.
    lines = text.count("\n") + text.count("\r") - text.count("\r\n") + 1
    write_progress = None
    if progress is not None:

        def write_progress(done: int, total: int) -> None:
            progress(lines + (lines * done) // total, 2 * lines)

    with db.atomic("IMMEDIATE"):
        _Writer(rows, result, write_progress).run()
    if len(rows) >= BIG_IMPORT:
        # Fold the big write-ahead log back into the database file and give the SD card its
        # space back; a reader still using the log just makes this a partial checkpoint.
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return result


class _Writer:
    """Writes checked rows inside the caller's transaction, comparing with what is stored."""

    def __init__(self, rows: list[CatalogRow], result: ImportResult, progress: Progress | None):
        self.rows = rows
        self.result = result
        self.progress = progress
        self.now = iso(utcnow())
        self.columns = rows[0].columns
        self.conn = db.connection()
        # id -> [sku, name, price, tax_code, category_id, unit, plu, active]
        self.products: dict[str, list] = {}
        self.barcodes_of: dict[str, dict[str, int]] = {}
        self.owner_of_barcode: dict[str, str] = {}
        self.on_hand: dict[str, int] = {}
        self.category_ids: dict[str, int] = {}
        self.clear_plu: set[str] = set()

    def run(self) -> None:
        id_of_sku: dict[str, str] = {}
        owner_of_plu: dict[str, str] = {}
        for pid, sku, name, price, tax, cat, unit, plu, active in self.conn.execute(
            "SELECT id, sku, name, price, tax_code, category_id, unit, plu, active FROM product"
        ):
            self.products[pid] = [sku, name, price, tax, cat, unit, plu, bool(active)]
            id_of_sku[sku] = pid
            if plu is not None:
                owner_of_plu[plu] = pid
        if "barcode" in self.columns:
            for code, pid, pack_qty in self.conn.execute(
                "SELECT code, product_id, pack_qty FROM barcode"
            ):
                self.barcodes_of.setdefault(pid, {})[code] = pack_qty
                self.owner_of_barcode[code] = pid
        if "stock" in self.columns:
            self.on_hand = dict(
                self.conn.execute("SELECT product_id, on_hand FROM stock_level").fetchall()
            )
        self._categories()
        ids = [id_of_sku.get(row.sku) or uuid7() for row in self.rows]
        if "plu" in self.columns:
            self._free_plus(ids, owner_of_plu)
        total = len(self.rows)
        for start in range(0, total, CHUNK):
            stop = min(start + CHUNK, total)
            self._write(self.rows[start:stop], ids[start:stop])
            if self.progress:
                self.progress(stop, total)

    def _categories(self) -> None:
        """Category ids by the file's spelling, creating the missing ones (matched ignoring
        case, so 'Minuman' and 'minuman' are one category)."""
        if "category" not in self.columns:
            return
        query = "SELECT id, name FROM category"
        existing = {name.casefold(): cid for cid, name in self.conn.execute(query)}
        wanted: dict[str, str] = {}
        for row in self.rows:
            if row.category is not None:
                wanted.setdefault(row.category.casefold(), row.category)
        missing = [name for key, name in wanted.items() if key not in existing]
        if missing:
            # New categories are listed after the existing ones, in the file's order.
            (last,) = self.conn.execute("SELECT COALESCE(MAX(sort), 0) FROM category").fetchone()
            self.conn.executemany(
                "INSERT INTO category (name, sort) VALUES (?, ?)",
                [(name, last + n) for n, name in enumerate(missing, start=1)],
            )
            self.result.categories_created = len(missing)
            existing = {name.casefold(): cid for cid, name in self.conn.execute(query)}
        self.category_ids = {name: existing[key] for key, name in wanted.items()}

    def _free_plus(self, ids: list[str], owner_of_plu: dict[str, str]) -> None:
        """Take every plu that changes hands or goes away off its product first, so that the
        unique plu column never sees two products with one plu mid-import."""
        for row, pid in zip(self.rows, ids, strict=True):
            old = self.products.get(pid)
            if old is not None and old[6] is not None and old[6] != row.plu:
                self.clear_plu.add(pid)
            holder = owner_of_plu.get(row.plu) if row.plu else None
            if holder is not None and holder != pid:
                self.clear_plu.add(holder)
                self.result.moves.append(Move("plu", row.plu, self.products[holder][0], row.sku))
        if self.clear_plu:
            self.conn.executemany(
                "UPDATE product SET plu = NULL, updated_at = ? WHERE id = ?",
                [(self.now, pid) for pid in self.clear_plu],
            )

    def _write(self, rows: list[CatalogRow], ids: list[str]) -> None:
        columns, result = self.columns, self.result
        inserts, updates, delete_barcodes, barcode_rows = [], [], [], []
        stock_rows, movements = [], []
        for row, pid in zip(rows, ids, strict=True):
            old = self.products.get(pid)
            category_id = self.category_ids.get(row.category) if row.category else None
            values = [row.sku, row.name, row.price, row.tax, category_id, row.unit, row.plu, True]
            if old is not None:
                # Columns the file lacks keep what the product had.
                for i, column in ((3, "tax"), (4, "category"), (5, "unit"), (6, "plu")):
                    if column not in columns:
                        values[i] = old[i]
            changed = old is None or values != old or pid in self.clear_plu
            if "barcode" in columns:
                wanted = {b.code: b.pack_qty for b in row.barcodes}
                if wanted != self.barcodes_of.get(pid, {}):
                    changed = True
                    if old is not None:
                        delete_barcodes.append((pid,))
                    barcode_rows.extend((code, pid, qty) for code, qty in wanted.items())
                    for code in wanted:
                        holder = self.owner_of_barcode.get(code)
                        if holder is not None and holder != pid:
                            from_sku = self.products[holder][0]
                            result.moves.append(Move("barcode", code, from_sku, row.sku))
            if old is None:
                inserts.append((pid, *values, self.now))
                result.created += 1
            elif changed:
                updates.append((*values[1:], self.now, pid))
                result.updated += 1
            else:
                result.unchanged += 1
            if row.stock is not None:
                current = self.on_hand.get(pid)
                if current != row.stock:
                    stock_rows.append((pid, row.stock, self.now))
                    result.stock_set += 1
                    if row.stock != (current or 0):
                        movements.append((pid, row.stock - (current or 0), result.ref, self.now))
        conn = self.conn
        if inserts:
            conn.executemany(
                "INSERT INTO product (id, sku, name, price, tax_code, category_id, unit, plu, "
                "active, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                inserts,
            )
        if updates:
            conn.executemany(
                "UPDATE product SET name = ?, price = ?, tax_code = ?, category_id = ?, unit = ?, "
                "plu = ?, active = ?, updated_at = ? WHERE id = ?",
                updates,
            )
        if delete_barcodes:
            conn.executemany("DELETE FROM barcode WHERE product_id = ?", delete_barcodes)
        if barcode_rows:
            # REPLACE takes a code away from the product that had it: that is the move.
            conn.executemany(
                "INSERT OR REPLACE INTO barcode (code, product_id, pack_qty) VALUES (?, ?, ?)",
                barcode_rows,
            )
        if stock_rows:
            conn.executemany(
                "INSERT INTO stock_level (product_id, on_hand, reserved, pulled_on_hand, "
                "updated_at) VALUES (?, ?, 0, NULL, ?) ON CONFLICT (product_id) DO UPDATE SET "
                "on_hand = excluded.on_hand, updated_at = excluded.updated_at",
                stock_rows,
            )
        if movements:
            conn.executemany(
                "INSERT INTO stock_movement (product_id, qty, cause, ref, created_at) "
                "VALUES (?, ?, 'import', ?, ?)",
                movements,
            )


@contextmanager
def progress_bar(min_lines: int = 2000, file=None) -> Iterator[Progress]:
    """A `progress` callback drawing a tqdm bar (on stderr) for files of at least `min_lines`
    lines; small files import in the blink of an eye."""
    from tqdm import tqdm

    bars: list[Any] = []

    def update(done: int, total: int) -> None:
        if total < 2 * min_lines:
            return
        if not bars:
            bars.append(
                tqdm(
                    total=total,
                    desc="Importing",
                    unit=" rows",
                    unit_scale=0.5,
                    file=file or sys.stderr,
                )
            )
        bars[0].update(done - bars[0].n)

    try:
        yield update
    finally:
        for bar in bars:
            bar.close()
