"""Activity errors a retry cannot fix, with stable ``type`` names the workflow's retry policies know."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError, ApplicationErrorCategory


def bad_input(message: str) -> ApplicationError:
    return ApplicationError(message, type="BadInput", non_retryable=True)


def sandbox_unavailable(message: str) -> ApplicationError:
    return ApplicationError(message, type="SandboxUnavailable", non_retryable=True)


def publish_conflict(message: str) -> ApplicationError:
    return ApplicationError(message, type="PublishConflict", non_retryable=True)


# The LLM engine. ``LLMNotConfigured`` and ``LLMRequestRejected`` are final; ``LLMUnavailable``
# (429, 529, 5xx, connection, timeout) is retried by Temporal, after the server's retry-after.
LLM_NOT_CONFIGURED = "LLMNotConfigured"
LLM_REJECTED = "LLMRequestRejected"
LLM_UNAVAILABLE = "LLMUnavailable"


def llm_not_configured(message: str) -> ApplicationError:
    # Benign: with no key the engine is simply offline (the default); the workflow goes on
    # without it, so the worker does not log the failure as a warning with its traceback.
    return ApplicationError(message, type=LLM_NOT_CONFIGURED, non_retryable=True, category=ApplicationErrorCategory.BENIGN)


def llm_rejected(message: str) -> ApplicationError:
    return ApplicationError(message, type=LLM_REJECTED, non_retryable=True)
