"""Every OMS model, and `ALL_MODELS` in dependency order (a table after those it refers to).

>>> from cloud_oms.models import ALL_MODELS, Store, Order     # doctest: +SKIP
"""

from __future__ import annotations

from . import core, orders, releases, stock
from .core import *  # noqa: F403
from .orders import *  # noqa: F403
from .releases import *  # noqa: F403
from .stock import *  # noqa: F403

ALL_MODELS = [*core.MODELS, *orders.MODELS, *stock.MODELS, *releases.MODELS]
