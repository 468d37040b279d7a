"""The JSON contract's classification grounds: the confidence and evidence of whoever classified."""

from __future__ import annotations

from models import Attempt, Category, Diagnosis, RepairResult, Status, Triage

MISSING_TOOL = Diagnosis(
    category=Category.DEPENDENCY, specialist="build-tools", summary="add pyflakes", confidence=0.85,
    evidence=["bash: line 1: pyflakes: command not found"],
)


def result(triage: Triage | None, classification: Category | None) -> RepairResult:
    return RepairResult(
        workflow_id="repair-x", status=Status.REPAIRED, classification=classification, triage=triage,
        attempts=[Attempt(number=1, diagnosis=MISSING_TOOL)],
    )


def test_a_specialist_that_classified_what_triage_could_not_gives_the_grounds() -> None:
    unknown = Triage(category=Category.UNKNOWN, confidence=0.2, summary="no vocabulary matches", evidence=["make: *** [lint] Error 127"])
    contract = result(unknown, Category.DEPENDENCY).to_json_contract()
    assert contract["classification"] == "dependency" and contract["confidence"] == 0.85
    assert contract["evidence"] == ["bash: line 1: pyflakes: command not found"]


def test_triage_that_classified_keeps_its_own_grounds() -> None:
    known = Triage(category=Category.DEPENDENCY, confidence=0.9, summary="a module is missing", evidence=["No module named 'yaml'"])
    contract = result(known, Category.DEPENDENCY).to_json_contract()
    assert contract["confidence"] == 0.9 and contract["evidence"] == ["No module named 'yaml'"]


def test_nothing_classified_reports_triage_as_it_was() -> None:
    unknown = Triage(category=Category.UNKNOWN, confidence=0.2, summary="no vocabulary matches", evidence=["boom"])
    contract = result(unknown, Category.UNKNOWN).to_json_contract()
    assert contract["confidence"] == 0.2 and contract["evidence"] == ["boom"]
    assert result(None, None).to_json_contract()["confidence"] is None
