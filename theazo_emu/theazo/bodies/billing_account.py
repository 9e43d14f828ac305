"""Bodies of the billing account routes (sdk-compat.md, "theazo.billing"): budgets and checkout.

A budget is the SDK's BillingBudgetConfig: `monthly` (a Cost) and up to 10 `alerts`, each
a `threshold` between 0 and 1 of the budget, an optional `channel` (`webhook`) and an
optional `action` (`pause_all` stops new runs of the tenant once reached; `pause_user` is
recorded only). Checkout URLs must be absolute http(s) URLs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from theazo_emu.core.fields import HttpUrl
from theazo_emu.theazo.bodies.core import Body, Cost


class BudgetAlert(Body):
    threshold: float = Field(gt=0, le=1, description="A fraction of the monthly budget, 0 to 1.")
    channel: Literal["webhook"] | None = None
    action: Literal["pause_all", "pause_user"] | None = None


class BudgetConfig(Body):
    monthly: Cost
    alerts: list[BudgetAlert] = Field(default_factory=list, max_length=10)


class CreateCheckout(Body):
    plan: Literal["free", "pro", "enterprise"]
    successUrl: HttpUrl
    cancelUrl: HttpUrl
