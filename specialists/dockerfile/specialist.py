"""The Dockerfile specialist: reads a failing ``docker build`` (or the run of the image it built),
finds the instruction that failed in the Dockerfile the build step builds, and proposes the
smallest change to that Dockerfile, or says why it cannot."""

from __future__ import annotations

from collections.abc import Iterator

from models import Diagnosis
from specialists.dockerfile import apt, base_image, copy_sources, entrypoint, python_env
from specialists.dockerfile.apt import AptLookup
from specialists.dockerfile.base_image import ListImageTags
from specialists.dockerfile.build import build_commands, failed_steps, find_instruction
from specialists.dockerfile.case import Case
from specialists.dockerfile.context import BuildContext
from specialists.dockerfile.syntax import parse
from specialists.repo_view import RepoView


def diagnose(
    view: RepoView,
    log_lines: list[str],
    cmd: str,
    *,
    apt_lookup: AptLookup | None = None,
    list_image_tags: ListImageTags | None = None,
) -> Iterator[Diagnosis]:
    """Candidate diagnoses, best first. Without a lookup, the kinds that need it escalate."""
    steps = failed_steps(log_lines)
    at_run = entrypoint.missing_at_run(log_lines, cmd)
    if not steps and not at_run:
        return
    for build in build_commands(view, cmd):
        text = view.read(build.dockerfile)
        if text is None:
            continue
        dockerfile = parse(build.dockerfile, text)
        failures = [(step, find_instruction(dockerfile, step)) for step in steps]
        if steps and not any(ins is not None or step.image for step, ins in failures):
            continue  # another Dockerfile's build failed
        case = Case(view, build, dockerfile, BuildContext(view, build.context, build.dockerfile), log_lines, failures)
        for found in (
            copy_sources.fix(case),
            python_env.fix(case),
            apt.fix(case, apt_lookup),
            base_image.fix(case, list_image_tags),
            entrypoint.fix(case, cmd) if not steps else None,
        ):
            if found is not None:
                yield found
