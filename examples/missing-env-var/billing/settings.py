"""Billing settings, read from the environment at import time."""

import os

CURRENCY = os.environ["BILLING_CURRENCY"]
REGION = os.environ["BILLING_REGION"]


def invoice_prefix() -> str:
    return f"{REGION.upper()}-{CURRENCY}"
