"""Versioned migrations of the till's store, kept in `PRAGMA user_version`.

Each version is frozen SQL, written once and never edited: a database made by any earlier
release reaches the same schema as a new one. Add a version; never change an old one.
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import Database

V1 = [
    'CREATE TABLE "setting" ("key" VARCHAR(255) NOT NULL PRIMARY KEY, "value" TEXT NOT NULL, "changed_at" TEXT NOT NULL, "changed_by" VARCHAR(255))',
    'CREATE TABLE "counter" ("name" VARCHAR(255) NOT NULL PRIMARY KEY, "value" INTEGER NOT NULL)',
    'CREATE TABLE "tax_code" ("code" VARCHAR(255) NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL, "rate_bp" INTEGER NOT NULL, "base_num" INTEGER NOT NULL, "base_den" INTEGER NOT NULL, "active" INTEGER NOT NULL)',
    'CREATE TABLE "category" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL, "sort" INTEGER NOT NULL)',
    'CREATE UNIQUE INDEX "category_name" ON "category" ("name")',
    'CREATE TABLE "product" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "sku" VARCHAR(255) NOT NULL, "name" VARCHAR(255) NOT NULL, "price" INTEGER NOT NULL, "tax_code" VARCHAR(255) NOT NULL, "category_id" INTEGER, "unit" VARCHAR(255) NOT NULL, "plu" VARCHAR(255), "active" INTEGER NOT NULL, "updated_at" TEXT NOT NULL, FOREIGN KEY ("tax_code") REFERENCES "tax_code" ("code"), FOREIGN KEY ("category_id") REFERENCES "category" ("id"))',
    'CREATE UNIQUE INDEX "product_sku" ON "product" ("sku")',
    'CREATE INDEX "product_name" ON "product" ("name")',
    'CREATE INDEX "product_tax_code" ON "product" ("tax_code")',
    'CREATE INDEX "product_category_id" ON "product" ("category_id")',
    'CREATE UNIQUE INDEX "product_plu" ON "product" ("plu")',
    'CREATE TABLE "barcode" ("code" VARCHAR(255) NOT NULL PRIMARY KEY, "product_id" VARCHAR(36) NOT NULL, "pack_qty" INTEGER NOT NULL, FOREIGN KEY ("product_id") REFERENCES "product" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "barcode_product_id" ON "barcode" ("product_id")',
    'CREATE TABLE "promotion" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL, "kind" VARCHAR(255) NOT NULL, "product_id" VARCHAR(36), "category_id" INTEGER, "qty" INTEGER NOT NULL, "get_qty" INTEGER NOT NULL, "price" INTEGER, "starts_at" TEXT, "ends_at" TEXT, "active" INTEGER NOT NULL, FOREIGN KEY ("product_id") REFERENCES "product" ("id") ON DELETE CASCADE, FOREIGN KEY ("category_id") REFERENCES "category" ("id"))',
    'CREATE INDEX "promotion_product_id" ON "promotion" ("product_id")',
    'CREATE INDEX "promotion_category_id" ON "promotion" ("category_id")',
    'CREATE TABLE "customer" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL, "phone" VARCHAR(255), "email" VARCHAR(255), "created_at" TEXT NOT NULL)',
    'CREATE UNIQUE INDEX "customer_phone" ON "customer" ("phone")',
    'CREATE TABLE "staff" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL, "role" VARCHAR(255) NOT NULL, "pin_hash" VARCHAR(255) NOT NULL, "active" INTEGER NOT NULL, "failed_attempts" INTEGER NOT NULL, "locked_until" TEXT)',
    'CREATE TABLE "shift" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "staff_id" VARCHAR(36) NOT NULL, "opened_at" TEXT NOT NULL, "opening_float" INTEGER NOT NULL, "closed_at" TEXT, "closed_by_id" VARCHAR(36), "counted_cash" INTEGER, "expected_cash" INTEGER, "z_number" INTEGER, FOREIGN KEY ("staff_id") REFERENCES "staff" ("id"), FOREIGN KEY ("closed_by_id") REFERENCES "staff" ("id"))',
    'CREATE INDEX "shift_staff_id" ON "shift" ("staff_id")',
    'CREATE INDEX "shift_closed_by_id" ON "shift" ("closed_by_id")',
    'CREATE UNIQUE INDEX "shift_z_number" ON "shift" ("z_number")',
    'CREATE TABLE "sale" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "receipt_no" VARCHAR(255) NOT NULL, "receipt_seq" INTEGER NOT NULL, "shift_id" VARCHAR(36) NOT NULL, "staff_id" VARCHAR(36) NOT NULL, "customer_id" VARCHAR(36), "created_at" TEXT NOT NULL, "subtotal" INTEGER NOT NULL, "discount_total" INTEGER NOT NULL, "cart_discount" INTEGER NOT NULL, "cart_discount_label" VARCHAR(255), "rounding" INTEGER NOT NULL, "total" INTEGER NOT NULL, "tax_total" INTEGER NOT NULL, "prices_include_tax" INTEGER NOT NULL, "training" INTEGER NOT NULL, "ereceipt_token" VARCHAR(255) NOT NULL, FOREIGN KEY ("shift_id") REFERENCES "shift" ("id"), FOREIGN KEY ("staff_id") REFERENCES "staff" ("id"), FOREIGN KEY ("customer_id") REFERENCES "customer" ("id"))',
    'CREATE UNIQUE INDEX "sale_receipt_no" ON "sale" ("receipt_no")',
    'CREATE INDEX "sale_shift_id" ON "sale" ("shift_id")',
    'CREATE INDEX "sale_staff_id" ON "sale" ("staff_id")',
    'CREATE INDEX "sale_customer_id" ON "sale" ("customer_id")',
    'CREATE TABLE "sale_line" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "sale_id" VARCHAR(36) NOT NULL, "line_no" INTEGER NOT NULL, "product_id" VARCHAR(36), "sku" VARCHAR(255), "barcode" VARCHAR(255), "name" VARCHAR(255) NOT NULL, "unit" VARCHAR(255) NOT NULL, "qty" INTEGER NOT NULL, "weight_g" INTEGER, "unit_price" INTEGER NOT NULL, "price_overridden" INTEGER NOT NULL, "gross" INTEGER NOT NULL, "promo_discount" INTEGER NOT NULL, "line_discount" INTEGER NOT NULL, "cart_discount" INTEGER NOT NULL, "total" INTEGER NOT NULL, "tax_code" VARCHAR(255) NOT NULL, "tax_rate_bp" INTEGER NOT NULL, "tax_base_num" INTEGER NOT NULL, "tax_base_den" INTEGER NOT NULL, "tax_amount" INTEGER NOT NULL, "tax_base" INTEGER NOT NULL, "net" INTEGER NOT NULL, "promotion" VARCHAR(255), "refunded_qty" INTEGER NOT NULL, FOREIGN KEY ("sale_id") REFERENCES "sale" ("id") ON DELETE CASCADE, FOREIGN KEY ("product_id") REFERENCES "product" ("id"))',
    'CREATE INDEX "sale_line_sale_id" ON "sale_line" ("sale_id")',
    'CREATE INDEX "sale_line_product_id" ON "sale_line" ("product_id")',
    'CREATE TABLE "refund" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "receipt_no" VARCHAR(255) NOT NULL, "receipt_seq" INTEGER NOT NULL, "sale_id" VARCHAR(36) NOT NULL, "shift_id" VARCHAR(36) NOT NULL, "staff_id" VARCHAR(36) NOT NULL, "approved_by_id" VARCHAR(36), "created_at" TEXT NOT NULL, "reason" VARCHAR(255) NOT NULL, "rounding" INTEGER NOT NULL, "total" INTEGER NOT NULL, "tax_total" INTEGER NOT NULL, "training" INTEGER NOT NULL, FOREIGN KEY ("sale_id") REFERENCES "sale" ("id"), FOREIGN KEY ("shift_id") REFERENCES "shift" ("id"), FOREIGN KEY ("staff_id") REFERENCES "staff" ("id"), FOREIGN KEY ("approved_by_id") REFERENCES "staff" ("id"))',
    'CREATE UNIQUE INDEX "refund_receipt_no" ON "refund" ("receipt_no")',
    'CREATE INDEX "refund_sale_id" ON "refund" ("sale_id")',
    'CREATE INDEX "refund_shift_id" ON "refund" ("shift_id")',
    'CREATE INDEX "refund_staff_id" ON "refund" ("staff_id")',
    'CREATE INDEX "refund_approved_by_id" ON "refund" ("approved_by_id")',
    'CREATE TABLE "refund_line" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "refund_id" VARCHAR(36) NOT NULL, "sale_line_id" VARCHAR(36) NOT NULL, "qty" INTEGER NOT NULL, "amount" INTEGER NOT NULL, "tax_amount" INTEGER NOT NULL, "restock" INTEGER NOT NULL, FOREIGN KEY ("refund_id") REFERENCES "refund" ("id") ON DELETE CASCADE, FOREIGN KEY ("sale_line_id") REFERENCES "sale_line" ("id"))',
    'CREATE INDEX "refund_line_refund_id" ON "refund_line" ("refund_id")',
    'CREATE INDEX "refund_line_sale_line_id" ON "refund_line" ("sale_line_id")',
    'CREATE TABLE "payment" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "shift_id" VARCHAR(36) NOT NULL, "sale_id" VARCHAR(36), "refund_id" VARCHAR(36), "order_id" VARCHAR(255), "tender" VARCHAR(255) NOT NULL, "amount" INTEGER NOT NULL, "tendered" INTEGER, "change" INTEGER NOT NULL, "reference" VARCHAR(255), "training" INTEGER NOT NULL, FOREIGN KEY ("shift_id") REFERENCES "shift" ("id"), FOREIGN KEY ("sale_id") REFERENCES "sale" ("id") ON DELETE CASCADE, FOREIGN KEY ("refund_id") REFERENCES "refund" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "payment_shift_id" ON "payment" ("shift_id")',
    'CREATE INDEX "payment_sale_id" ON "payment" ("sale_id")',
    'CREATE INDEX "payment_refund_id" ON "payment" ("refund_id")',
    'CREATE TABLE "stock_level" ("product_id" VARCHAR(36) NOT NULL PRIMARY KEY, "on_hand" INTEGER NOT NULL, "reserved" INTEGER NOT NULL, "pulled_on_hand" INTEGER, "updated_at" TEXT NOT NULL, FOREIGN KEY ("product_id") REFERENCES "product" ("id") ON DELETE CASCADE)',
    'CREATE TABLE "stock_movement" ("id" INTEGER NOT NULL PRIMARY KEY, "product_id" VARCHAR(36) NOT NULL, "qty" INTEGER NOT NULL, "cause" VARCHAR(255) NOT NULL, "ref" VARCHAR(255), "created_at" TEXT NOT NULL, FOREIGN KEY ("product_id") REFERENCES "product" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "stock_movement_product_id" ON "stock_movement" ("product_id")',
    'CREATE TABLE "cash_movement" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "shift_id" VARCHAR(36) NOT NULL, "staff_id" VARCHAR(36) NOT NULL, "amount" INTEGER NOT NULL, "reason" VARCHAR(255) NOT NULL, "created_at" TEXT NOT NULL, FOREIGN KEY ("shift_id") REFERENCES "shift" ("id"), FOREIGN KEY ("staff_id") REFERENCES "staff" ("id"))',
    'CREATE INDEX "cash_movement_shift_id" ON "cash_movement" ("shift_id")',
    'CREATE INDEX "cash_movement_staff_id" ON "cash_movement" ("staff_id")',
    'CREATE TABLE "parked_sale" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "staff_id" VARCHAR(36) NOT NULL, "label" VARCHAR(255) NOT NULL, "cart" TEXT NOT NULL, "created_at" TEXT NOT NULL, FOREIGN KEY ("staff_id") REFERENCES "staff" ("id"))',
    'CREATE INDEX "parked_sale_staff_id" ON "parked_sale" ("staff_id")',
    'CREATE TABLE "outbox" ("seq" INTEGER NOT NULL PRIMARY KEY, "id" VARCHAR(36) NOT NULL, "type" VARCHAR(255) NOT NULL, "payload" BLOB NOT NULL, "created_at" TEXT NOT NULL, "state" VARCHAR(255) NOT NULL, "attempts" INTEGER NOT NULL, "last_error" TEXT, "delivered_at" TEXT)',
    'CREATE UNIQUE INDEX "outbox_id" ON "outbox" ("id")',
    'CREATE INDEX "outbox_state" ON "outbox" ("state")',
    'CREATE TABLE "audit" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "at" TEXT NOT NULL, "action" VARCHAR(255) NOT NULL, "staff_id" VARCHAR(36), "approved_by_id" VARCHAR(36), "detail" TEXT NOT NULL, FOREIGN KEY ("staff_id") REFERENCES "staff" ("id"), FOREIGN KEY ("approved_by_id") REFERENCES "staff" ("id"))',
    'CREATE INDEX "audit_action" ON "audit" ("action")',
    'CREATE INDEX "audit_staff_id" ON "audit" ("staff_id")',
    'CREATE INDEX "audit_approved_by_id" ON "audit" ("approved_by_id")',
]

# v2: the persistent print queue (hardware issue) and indexes for shift reports.
V2 = [
    'CREATE TABLE "print_job" ("id" INTEGER NOT NULL PRIMARY KEY, "kind" VARCHAR(255) NOT NULL, "ref" VARCHAR(255), "copy" INTEGER NOT NULL, "payload" BLOB, "state" VARCHAR(255) NOT NULL, "attempts" INTEGER NOT NULL, "last_error" TEXT, "created_at" TEXT NOT NULL, "printed_at" TEXT)',
    'CREATE INDEX "print_job_state" ON "print_job" ("state")',
    'CREATE INDEX "payment_shift_tender" ON "payment" ("shift_id", "tender")',
    'CREATE INDEX "sale_created_at" ON "sale" ("created_at")',
    'CREATE INDEX "outbox_pending" ON "outbox" ("state", "seq")',
]

# v3: the open shift is looked up on every sale, and Z reports count voids by action and time.
V3 = [
    'CREATE INDEX "shift_open" ON "shift" ("opened_at") WHERE "closed_at" IS NULL',
    'CREATE INDEX "audit_action_at" ON "audit" ("action", "at")',
]

# v4: sales of other tills of the store, copied from the OMS to refund them here. Such a sale
# belongs to no shift or staff member of this till (NULL), and says which till sold it. SQLite
# cannot drop NOT NULL in place: the table is rebuilt (foreign keys off meanwhile, checked at
# the end of the same transaction).
V4 = [
    'CREATE TABLE "sale_v4" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "receipt_no" VARCHAR(255) NOT NULL, "receipt_seq" INTEGER NOT NULL, "shift_id" VARCHAR(36), "staff_id" VARCHAR(36), "customer_id" VARCHAR(36), "created_at" TEXT NOT NULL, "subtotal" INTEGER NOT NULL, "discount_total" INTEGER NOT NULL, "cart_discount" INTEGER NOT NULL, "cart_discount_label" VARCHAR(255), "rounding" INTEGER NOT NULL, "total" INTEGER NOT NULL, "tax_total" INTEGER NOT NULL, "prices_include_tax" INTEGER NOT NULL, "training" INTEGER NOT NULL, "ereceipt_token" VARCHAR(255) NOT NULL, "origin" VARCHAR(255), "origin_event_id" VARCHAR(36), "origin_payments" TEXT, FOREIGN KEY ("shift_id") REFERENCES "shift" ("id"), FOREIGN KEY ("staff_id") REFERENCES "staff" ("id"), FOREIGN KEY ("customer_id") REFERENCES "customer" ("id"))',
    'INSERT INTO "sale_v4" ("id", "receipt_no", "receipt_seq", "shift_id", "staff_id", "customer_id", "created_at", "subtotal", "discount_total", "cart_discount", "cart_discount_label", "rounding", "total", "tax_total", "prices_include_tax", "training", "ereceipt_token") SELECT "id", "receipt_no", "receipt_seq", "shift_id", "staff_id", "customer_id", "created_at", "subtotal", "discount_total", "cart_discount", "cart_discount_label", "rounding", "total", "tax_total", "prices_include_tax", "training", "ereceipt_token" FROM "sale"',
    'DROP TABLE "sale"',
    'ALTER TABLE "sale_v4" RENAME TO "sale"',
    'CREATE UNIQUE INDEX "sale_receipt_no" ON "sale" ("receipt_no")',
    'CREATE INDEX "sale_shift_id" ON "sale" ("shift_id")',
    'CREATE INDEX "sale_staff_id" ON "sale" ("staff_id")',
    'CREATE INDEX "sale_customer_id" ON "sale" ("customer_id")',
    'CREATE INDEX "sale_created_at" ON "sale" ("created_at")',
]

MIGRATIONS: list[tuple[int, list[str] | Callable[[Database], None]]] = [
    (1, V1),
    (2, V2),
    (3, V3),
    (4, V4),
]
# Versions that rebuild a table others refer to: foreign keys are off while they run.
REBUILDS = frozenset({4})
LATEST = MIGRATIONS[-1][0]


def current_version(db: Database) -> int:
    return db.execute_sql("PRAGMA user_version").fetchone()[0]


def migrate(db: Database, target: int = LATEST) -> list[int]:
    """Bring the database up to `target`; returns the versions applied. Each version is one
    transaction together with its user_version bump, so a power cut leaves a whole version."""
    found = current_version(db)
    if found > LATEST:
        raise RuntimeError(
            f"this store is at schema version {found}, newer than this Kasir knows ({LATEST}): "
            "install the newer release again instead of downgrading"
        )
    applied = []
    for version, step in MIGRATIONS:
        if version <= current_version(db) or version > target:
            continue
        rebuild = version in REBUILDS
        enforced = db.execute_sql("PRAGMA foreign_keys").fetchone()[0]
        if rebuild:
            # only outside a transaction does this pragma take effect
            db.execute_sql("PRAGMA foreign_keys = OFF")
        try:
            with db.atomic():
                if callable(step):
                    step(db)
                else:
                    for statement in step:
                        db.execute_sql(statement)
                if rebuild:
                    broken = db.execute_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(
                            f"schema version {version} would break references: {broken[:5]}"
                        )
                db.execute_sql(f"PRAGMA user_version = {version}")
        finally:
            if rebuild:
                db.execute_sql(f"PRAGMA foreign_keys = {enforced}")
        applied.append(version)
    return applied
