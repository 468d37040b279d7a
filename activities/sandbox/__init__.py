"""Sandboxes that run one build each: ``docker`` (a locked-down container) and ``local``
(a fresh virtualenv and a process group of its own)."""

from activities.sandbox.base import BuildCancelled, BuildSpec, Outcome, Sandbox, scrubbed_environment

__all__ = ["BuildCancelled", "BuildSpec", "Outcome", "Sandbox", "scrubbed_environment"]
