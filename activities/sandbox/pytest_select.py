"""A pytest plugin that runs exactly the tests a triage rerun asks for, in the order it asks.

Copied into the checkout as ``greenline_select.py`` and loaded with ``-p greenline_select``;
``GREENLINE_SELECT`` names a file with one test id per line. Runs inside the sandbox, on the
build's own Python: standard library only, Python 3.8 syntax.
"""

import os

import pytest


def _junit_id(item):
    # The id read_junit reconstructs when the XML carries no file attribute.
    path, bracket, params = item.nodeid.partition("[")
    names = path.split("::")
    module = names[0].replace("/", ".")
    if module.endswith(".py"):
        module = module[:-3]
    names[0] = module
    names[-1] += bracket + params
    return ".".join(names[:-1]) + "::" + names[-1]


# Last, after every other plugin has reordered or filtered the items.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    path = os.environ.get("GREENLINE_SELECT")
    if not path:
        return
    with open(path, encoding="utf-8") as handle:
        wanted = [line.strip() for line in handle if line.strip()]
    rank = {test: index for index, test in enumerate(wanted)}
    chosen, dropped = [], []
    for item in items:
        index = rank.get(item.nodeid, rank.get(_junit_id(item)))
        (dropped if index is None else chosen).append((index, item))
    chosen.sort(key=lambda pair: pair[0])
    items[:] = [item for _, item in chosen]
    if dropped:
        config.hook.pytest_deselected(items=[item for _, item in dropped])

