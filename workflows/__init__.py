"""Deterministic orchestration: the Reason-Act-Verify repair loop."""

from workflows.repair import RepairWorkflow

WORKFLOWS = [RepairWorkflow]

__all__ = ["WORKFLOWS", "RepairWorkflow"]
