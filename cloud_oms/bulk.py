"""Many rows into one table quickly: one INSERT statement, the rows sent with executemany.

    >>> insert_rows(OrderLine, [{"id": line_id, "order": order_id, "line_no": 1, ...}, ...])
    ...                                                             # doctest: +SKIP

peewee's `insert_many` renders every value of every row into the SQL text, which for a till
batch (a hundred sales are ~1,100 rows) costs far more Python time than the database needs to
store them. Here the statement is built once per table and column set, each value goes through
its field's `db_value` (aware datetimes become naive UTC, a model instance its key), fields a
row leaves out get their defaults as with `insert_many`, and the driver's `executemany` sends
the rows: psycopg 3 pipelines them in one round trip, sqlite3 steps one prepared statement.
Driver errors come out as peewee's (`IntegrityError`, `DataError`, ...). Runs inside the
caller's transaction; all rows of a call must have the same keys.
"""

from __future__ import annotations

from functools import lru_cache

from peewee import Model
from peewee import __exception_wrapper__ as _driver_errors

from .db import db


@lru_cache(maxsize=128)
def _statement(model: type[Model], keys: tuple[str, ...], param: str, quote: str) -> tuple:
    """(SQL, fields in column order, how many of them the rows give) for rows with `keys`;
    the fields after those are the defaulted ones."""
    fields = [model._meta.fields[k] for k in keys]
    fields += [
        f for name, f in model._meta.fields.items() if name not in keys and f.default is not None
    ]
    columns = ", ".join(f"{quote[0]}{f.column_name}{quote[1]}" for f in fields)
    table = f"{quote[0]}{model._meta.table_name}{quote[1]}"
    placeholders = ", ".join([param] * len(fields))
    return f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", tuple(fields), len(keys)


def insert_rows(model: type[Model], rows: list[dict]) -> None:
    """INSERT every row of `rows` (dicts of field name → value, all with the same keys)."""
    if not rows:
        return
    database = db.obj
    sql, fields, given = _statement(model, tuple(rows[0]), database.param, database.quote)
    keys = [f.name for f in fields[:given]]
    defaults = fields[given:]
    params = []
    for row in rows:
        values = [f.db_value(row[k]) for f, k in zip(fields, keys, strict=False)]
        for f in defaults:
            values.append(f.db_value(f.default() if callable(f.default) else f.default))
        params.append(values)
    with _driver_errors:
        database.cursor().executemany(sql, params)
