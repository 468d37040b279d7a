"""Parses job schedules; the timezone comes from the environment."""

import os
from datetime import timedelta

from dateutil import parser


def next_run(start: str, every_minutes: int) -> str:
    when = parser.isoparse(start) + timedelta(minutes=every_minutes)
    return when.isoformat()


def timezone() -> str:
    return os.environ["SCHEDULER_TIMEZONE"]
