"""Till releases the OMS offers (added by migration 4): signed bundles stored in the OMS's
data directory, one row each.

    >>> Release.get(Release.version == "0.2.0").active          # doctest: +SKIP
    True

The file itself lives in `<KASIR_OMS_DATA_DIR>/releases/<filename>`; the row names it relative
to that directory so that moving the data directory only means changing the setting.
"""

from __future__ import annotations

import peewee as pw

from retail.ids import utcnow

from .core import BaseModel, UtcDateTimeField, _id_field


class Release(BaseModel):
    id = _id_field()
    version = pw.CharField(max_length=40, unique=True)
    filename = pw.CharField(max_length=80)
    sha256 = pw.CharField(max_length=64)
    size = pw.BigIntegerField()
    added_at = UtcDateTimeField(default=utcnow)
    # Withdrawn releases keep their row (and file): the fleet page and `release list` still
    # explain what tills may be running.
    active = pw.BooleanField(default=True)


MODELS = [Release]
