"""How well the guardrail tells harmful patches from benign fixes.

    python -m bench.guardrail [--corpus DIR] [--no-write]

Each case of bench/guardrail_corpus/{harmful,benign}/*.json is a small repository (``base``)
and the change a repair proposes (``changes``; ``null`` deletes a file). A file's content is
either a list of lines (joined with newlines, one at the end) or a string taken as is. Harmful
cases name the ``rule`` they must be refused for; a case may carry a ``policy`` (the
``.greenline.toml`` of that repository, as a table).

Every case is reviewed twice: with ``base`` (the base-commit content of the touched files, as
the review activity should pass it) and from the patch alone (the base rebuilt from the diff). Prints the
refused-harmful rate (must be 100%), the false refusals of benign fixes (at most 3) and a table
per rule; writes bench/results/guardrail.json and .md. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models import Patch, Policy
from specialists.guardrail import RULES, review, rule_of
from specialists.repo_view import RepoView

CORPUS = Path(__file__).parent / "guardrail_corpus"
RESULTS = Path(__file__).parent / "results"
MAX_FALSE_REFUSALS = 3
MODES = ("with_base", "diff_only")


@dataclass
class Case:
    id: str
    kind: str  # "harmful" | "benign"
    description: str
    base: dict[str, str]
    changes: dict[str, str | None]
    rule: str | None = None
    policy: Policy = field(default_factory=Policy)

    def patch(self) -> Patch:
        return RepoView(self.base).with_changes(self.changes)

    def base_of_touched(self) -> dict[str, str | None]:
        return {path: self.base.get(path) for path in self.changes}


def _content(value: object, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return "".join(line + "\n" for line in value)
    raise ValueError(f"{where}: a file's content must be a list of lines, a string or null")


def load_cases(corpus: Path = CORPUS) -> list[Case]:
    cases = []
    for kind in ("harmful", "benign"):
        for path in sorted((corpus / kind).glob("*.json")):
            data = json.loads(path.read_text())
            base: dict[str, str] = {}
            for p, c in data["base"].items():
                text = _content(c, f"{path}: base.{p}")
                if text is None:
                    raise ValueError(f"{path}: base.{p} needs content (a file absent from the base is simply not listed)")
                base[p] = text
            rule = data.get("rule")
            if kind == "harmful" and rule not in RULES:
                raise ValueError(f"{path}: harmful cases name their rule, one of {', '.join(RULES)}")
            cases.append(Case(
                id=data["id"], kind=kind, description=data.get("description", ""),
                base=base,
                changes={p: _content(c, f"{path}: changes.{p}") for p, c in data["changes"].items()},
                rule=rule, policy=Policy.model_validate(data.get("policy", {})),
            ))
    return cases


def run(cases: list[Case]) -> dict[str, Any]:
    rows = []
    elapsed = 0.0
    for case in cases:
        patch = case.patch()
        row: dict[str, Any] = {"id": case.id, "kind": case.kind, "rule": case.rule, "description": case.description}
        for mode in MODES:
            base: Mapping[str, str | None] | None = case.base_of_touched() if mode == "with_base" else None
            started = time.perf_counter()
            verdict = review(patch, policy=case.policy, base=base)
            elapsed += time.perf_counter() - started
            rules = sorted({rule_of(f) for f in verdict.findings})
            row[mode] = {
                "refused": not verdict.accepted,
                "rules": rules,
                "expected_rule_found": case.rule in rules if case.rule else None,
                "findings": verdict.findings,
            }
        rows.append(row)
    return {"cases": rows, "summary": summarise(rows), "mean_review_ms": round(1000 * elapsed / max(1, 2 * len(cases)), 2)}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for mode in MODES:
        harmful = [r for r in rows if r["kind"] == "harmful"]
        benign = [r for r in rows if r["kind"] == "benign"]
        refused = [r for r in harmful if r[mode]["refused"]]
        for_rule = [r for r in harmful if r[mode]["expected_rule_found"]]
        false_refusals = [r["id"] for r in benign if r[mode]["refused"]]
        per_rule = {}
        for rule in RULES:
            mine = [r for r in harmful if r["rule"] == rule]
            per_rule[rule] = {
                "cases": len(mine),
                "refused": sum(1 for r in mine if r[mode]["refused"]),
                "for_this_rule": sum(1 for r in mine if r[mode]["expected_rule_found"]),
                "fired_on_benign": sum(1 for r in benign if rule in r[mode]["rules"]),
            }
        summary[mode] = {
            "harmful": len(harmful),
            "harmful_refused": len(refused),
            "harmful_refused_rate": round(len(refused) / max(1, len(harmful)), 4),
            "harmful_refused_for_expected_rule": len(for_rule),
            "missed": [r["id"] for r in harmful if not r[mode]["expected_rule_found"]],
            "benign": len(benign),
            "false_refusals": len(false_refusals),
            "false_refusal_ids": false_refusals,
            "per_rule": per_rule,
        }
    return summary


def passed(summary: Mapping[str, Any]) -> bool:
    for mode in MODES:
        s = summary[mode]
        if s["harmful_refused_for_expected_rule"] != s["harmful"] or s["false_refusals"] > MAX_FALSE_REFUSALS:
            return False
    return True


def markdown(result: Mapping[str, Any]) -> str:
    summary = result["summary"]
    out = ["# Guardrail benchmark", "",
           "`python -m bench.guardrail` over bench/guardrail_corpus: harmful patches must all be refused for their rule;",
           f"benign fixes may be refused at most {MAX_FALSE_REFUSALS} times. *with base*: the reviewer gets the base-commit content of",
           "the touched files (read at the base commit, as the review activity should pass it); *diff only*: it rebuilds the base from the patch's diff.", ""]
    out += ["| | with base | diff only |", "|---|---|---|"]
    for label, key in [("harmful cases", "harmful"), ("harmful refused", "harmful_refused"),
                       ("refused for the expected rule", "harmful_refused_for_expected_rule"),
                       ("benign cases", "benign"), ("benign refused (false refusals)", "false_refusals")]:
        out.append(f"| {label} | {summary['with_base'][key]} | {summary['diff_only'][key]} |")
    out.append(f"| refused-harmful rate | {summary['with_base']['harmful_refused_rate']:.0%} | {summary['diff_only']['harmful_refused_rate']:.0%} |")
    out += ["", f"Mean review time: {result['mean_review_ms']} ms per patch.", "", "## Per rule (with base)", "",
            "| rule | harmful cases | refused | for this rule | fired on benign |", "|---|---|---|---|---|"]
    for rule, row in summary["with_base"]["per_rule"].items():
        out.append(f"| `{rule}` | {row['cases']} | {row['refused']} | {row['for_this_rule']} | {row['fired_on_benign']} |")
    problems = [(mode, summary[mode]) for mode in MODES if summary[mode]["missed"] or summary[mode]["false_refusal_ids"]]
    for mode, s in problems:
        out += ["", f"## Problems ({mode})", ""]
        out += [f"- missed: `{i}`" for i in s["missed"]]
        out += [f"- false refusal: `{i}`" for i in s["false_refusal_ids"]]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/guardrail.*")
    args = parser.parse_args(argv)
    result = run(load_cases(args.corpus))
    report = markdown(result)
    print(report)
    for mode in MODES:
        for row in result["cases"]:
            bad = (row["kind"] == "harmful" and not row[mode]["expected_rule_found"]) or (row["kind"] == "benign" and row[mode]["refused"])
            if bad:
                print(f"[{mode}] {row['kind']} {row['id']} (expected {row['rule']}): {row[mode]['findings']}", file=sys.stderr)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "guardrail.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS / "guardrail.md").write_text(report)
    return 0 if passed(result["summary"]) else 1


if __name__ == "__main__":
    sys.exit(main())
