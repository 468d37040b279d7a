"""Replays a recorded RepairWorkflow history against the current code: a change that would
break workflows in flight (non-determinism) fails here before it reaches a cluster."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from greenline.client import DATA_CONVERTER
from workflows import RepairWorkflow

HISTORIES = Path(__file__).parent / "histories"


async def test_recorded_histories_replay_on_current_code() -> None:
    files = sorted(HISTORIES.glob("*.json"))
    assert files, "no recorded history: run python -m tests.workflows.record_history"
    replayer = Replayer(workflows=[RepairWorkflow], data_converter=DATA_CONVERTER)
    for file in files:
        history = WorkflowHistory.from_json(file.stem, file.read_text())
        result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
        assert result.replay_failure is None, f"{file.name}: {result.replay_failure}"
