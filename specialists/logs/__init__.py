"""Build logs: cleaning, distilling to the lines that explain a failure, failure signatures.

``distill`` gives every line of a log a priority, keeps the best lines that fit a byte budget and
shows them in log order. Its signals are generic, no tool is special-cased:

- *where*: the output of a command that failed, from the line that started it (``$ make``, a CI
  step, a build tool's task) to the line that reports its non-zero exit, is what a reader looks
  at first, the first failing command above all; its last lines are the likeliest explanation.
- *what*: the error vocabulary of compilers, test runners and build tools of most languages
  (``error:``, ``FAILED``, ``SomeError``/``Exception``, ``panic``, ``No such file``...), weaker
  words (``cannot``, ``expected``) and warnings, and benign look-alikes (``0 errors``, ``-Werror``,
  ``ok``/``PASSED``/``SKIPPED`` lines, ``--state=failed``, ``errors.go``).
- *shape*: an error line opens a block that is kept together, nearest lines first: a header
  above it (the test's name, or the whole section since a banner such as pytest's
  ``____ test_x ____``), its message, stack frames of most runtimes, carets and indented details
  below, the exception that ends a Python traceback whatever its name; indentation counts after a
  log level prefix (``[info]   at x``).
- *rarity*: an error said the same way all over the log (cmake's "Looking for x - not found", a
  server's error-level logging) is routine; a repeat of a line already kept costs nothing.
- *history*: with the last green log of the same job, lines whose template (the line with
  numbers, paths, hashes and timestamps masked) also occurs there explain nothing about this
  failure and are dropped.

Every step is linear in the size of the log: the per-line work is one cheap literal screen
(``vocabulary``), everything else runs on the few lines that pass it and their neighbours.

Modules, by role: ``cleaning`` (raw bytes to lines), ``vocabulary`` (what a line says),
``shapes`` (what a line looks like: commands, frames, banners, templates), ``scoring`` (each
line's priority), ``excerpt`` (the lines that fit the budget, rendered), ``fingerprint``
(error lines and failure signatures, for triage and routing).
"""

from specialists.logs.cleaning import clean
from specialists.logs.excerpt import distill
from specialists.logs.fingerprint import error_lines, signature

__all__ = ["clean", "distill", "error_lines", "signature"]
