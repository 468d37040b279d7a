"""Activity errors a retry cannot fix, with stable ``type`` names the workflow's retry policies know."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError


def bad_input(message: str) -> ApplicationError:
    return ApplicationError(message, type="BadInput", non_retryable=True)


def sandbox_unavailable(message: str) -> ApplicationError:
    return ApplicationError(message, type="SandboxUnavailable", non_retryable=True)


def publish_conflict(message: str) -> ApplicationError:
    return ApplicationError(message, type="PublishConflict", non_retryable=True)
