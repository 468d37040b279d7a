"""The domain brain, pure and testable: logs, specialists, guardrail, verification."""
