"""Errors a user can act on. Each message names what went wrong and what to do.

    GreenlineError            exit code 1
    ├── BadInput              the command line or the repository is not usable
    ├── ServerUnavailable     no Temporal server to talk to
    └── SandboxUnavailable    the asked-for sandbox cannot run here
"""

from __future__ import annotations


class GreenlineError(Exception):
    exit_code = 1


class BadInput(GreenlineError):
    pass


class ServerUnavailable(GreenlineError):
    pass


class SandboxUnavailable(GreenlineError):
    pass
