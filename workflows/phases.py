"""One activity configuration per Reason-Act-Verify phase, declared once, validated at import.

Every phase has a start-to-close timeout and a bounded retry policy (the SDK default retries
forever). Builds heartbeat, so a worker that dies mid-build is noticed within
``BUILD_HEARTBEAT`` and the build is retried on another worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio.common import RetryPolicy

# Error types that no retry can fix: the activity raises them as non-retryable anyway;
# listing them here also protects against an activity that forgets to.
NON_RETRYABLE = ["BadInput", "SandboxUnavailable", "PublishConflict", "LLMNotConfigured", "LLMRequestRejected"]

BUILD_HEARTBEAT = timedelta(seconds=10)


@dataclass(frozen=True)
class PhaseOptions:
    start_to_close: timedelta
    retry: RetryPolicy
    heartbeat: timedelta | None = None

    def __post_init__(self) -> None:
        if self.start_to_close <= timedelta(0):
            raise ValueError("start_to_close must be positive")
        if not self.retry.maximum_attempts:
            raise ValueError("every phase needs a bounded retry policy (maximum_attempts > 0)")

    def kwargs(self, *, start_to_close: timedelta | None = None) -> dict[str, object]:
        return {
            "start_to_close_timeout": start_to_close or self.start_to_close,
            "retry_policy": self.retry,
            "heartbeat_timeout": self.heartbeat,
        }


def _retry(attempts: int, first: float = 1.0, maximum: float = 30.0) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(seconds=first),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=maximum),
        maximum_attempts=attempts,
        non_retryable_error_types=NON_RETRYABLE,
    )


PREPARE = PhaseOptions(timedelta(minutes=2), _retry(3))
BUILD = PhaseOptions(timedelta(minutes=32), _retry(3, first=2.0), heartbeat=BUILD_HEARTBEAT)
TRIAGE = PhaseOptions(timedelta(minutes=2), _retry(3))
DIAGNOSE = PhaseOptions(timedelta(minutes=5), _retry(3))
REVIEW = PhaseOptions(timedelta(minutes=1), _retry(3))
VERIFY = PhaseOptions(timedelta(minutes=1), _retry(3))
PUBLISH = PhaseOptions(timedelta(minutes=2), _retry(5))
# A model call: its own timeout comes with each request (``start_to_close`` override); 429/529/5xx
# are retried after the server's retry-after (the activity sets ``next_retry_delay``).
# The activity heartbeats while it waits, so a call lost with its worker is retried within
# ``LLM_HEARTBEAT`` instead of at its timeout.
LLM_HEARTBEAT = timedelta(seconds=10)
LLM = PhaseOptions(timedelta(minutes=3), _retry(5, first=2.0, maximum=60.0), heartbeat=LLM_HEARTBEAT)
