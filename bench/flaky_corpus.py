"""Small pytest projects with one known-bad test each: genuinely flaky (non-order-dependent),
order-dependent victims, and deterministic failures. The kinds follow IDoFT's Python data
(`../shared/datasets/idoft/py-data.csv`: 804 OD victims, 235 NOD, ...): shared module state,
leaked temp files and environment variables, cached singletons; timing races, unseeded
randomness, set ordering under hash randomisation; plain logic bugs.

Each project has filler tests before and after the target, so that finding a polluter means
searching among several candidates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models import Flakiness


@dataclass(frozen=True)
class Scenario:
    name: str
    truth: Flakiness
    target: str
    files: dict[str, str]
    polluter: str | None = None
    # Roughly how often the target fails in a full run (to bound the search for a failing build).
    about: str = ""
    tags: list[str] = field(default_factory=list)


def _fillers(module: str, count: int) -> str:
    return "".join(f"\n\ndef test_{module}_{n}():\n    assert sum(range({n} + 1)) == {n * (n + 1) // 2}\n" for n in range(count))


def _project(target_file: str, target_source: str, *, before: dict[str, str] | None = None) -> dict[str, str]:
    files = {"pytest.ini": "[pytest]\ntestpaths = tests\n", "tests/__init__.py": ""}
    files["tests/test_a_basics.py"] = _fillers("basics", 4).lstrip()
    files.update(before or {})
    files["tests/test_c_more.py"] = _fillers("more", 3).lstrip()
    files[target_file] = target_source
    files["tests/test_z_after.py"] = _fillers("after", 2).lstrip()
    return files


SCENARIOS = [
    # ---------------------------------------------------------------- flaky (NOD)
    Scenario(
        "timing-race",
        Flakiness.FLAKY,
        "tests/test_d_worker.py::test_worker_finishes_in_time",
        _project(
            "tests/test_d_worker.py",
            "import random\nimport threading\nimport time\n\n\ndef test_worker_finishes_in_time():\n"
            "    done = threading.Event()\n"
            "    threading.Thread(target=lambda: (time.sleep(random.uniform(0.0, 0.04)), done.set())).start()\n"
            "    time.sleep(0.02)  # the test assumes the worker is always this fast\n"
            "    assert done.is_set()\n",
        ),
        about="half the runs",
    ),
    Scenario(
        "unseeded-random",
        Flakiness.FLAKY,
        "tests/test_d_sampling.py::test_sample_contains_the_head",
        _project(
            "tests/test_d_sampling.py",
            "import random\n\n\ndef test_sample_contains_the_head():\n    picked = random.sample(range(6), 3)\n    assert 0 in picked\n",
        ),
        about="half the runs",
    ),
    Scenario(
        "hash-ordering",
        Flakiness.FLAKY,
        "tests/test_d_tags.py::test_first_tag_is_alpha",
        _project(
            "tests/test_d_tags.py",
            'def test_first_tag_is_alpha():\n    tags = {"alpha", "beta"}\n    # set order of str depends on PYTHONHASHSEED, random per process\n    assert next(iter(tags)) == "alpha"\n',
        ),
        about="half the runs",
    ),
    Scenario(
        "async-race",
        Flakiness.FLAKY,
        "tests/test_d_events.py::test_events_arrive_in_order",
        _project(
            "tests/test_d_events.py",
            "import asyncio\nimport random\n\n\ndef test_events_arrive_in_order():\n    seen = []\n\n"
            "    async def emit(name):\n        await asyncio.sleep(random.uniform(0, 0.01))\n        seen.append(name)\n\n"
            "    async def main():\n        await asyncio.gather(emit('created'), emit('updated'))\n\n"
            "    asyncio.run(main())\n    assert seen == ['created', 'updated']\n",
        ),
        about="half the runs",
    ),
    # ---------------------------------------------------------------- order-dependent victims
    Scenario(
        "shared-module-state",
        Flakiness.ORDER_DEPENDENT,
        "tests/test_d_registry.py::test_registry_starts_empty",
        _project(
            "tests/test_d_registry.py",
            "from tests import registry\n\n\ndef test_registry_starts_empty():\n    assert registry.HANDLERS == {}\n",
            before={
                "tests/registry.py": "HANDLERS = {}\n",
                "tests/test_b_plugins.py": _fillers("plugins", 2).lstrip()
                + "\n\ndef test_register_handler():\n    from tests import registry\n\n    registry.HANDLERS['csv'] = object()\n    assert 'csv' in registry.HANDLERS\n"
                + _fillers("plugins_more", 2),
            },
        ),
        polluter="tests/test_b_plugins.py::test_register_handler",
    ),
    Scenario(
        "leaked-temp-file",
        Flakiness.ORDER_DEPENDENT,
        "tests/test_d_export.py::test_export_dir_is_clean",
        _project(
            "tests/test_d_export.py",
            "import os\nimport tempfile\n\n\ndef test_export_dir_is_clean():\n"
            "    export = os.path.join(tempfile.gettempdir(), 'exports')\n"
            "    assert not os.path.exists(export) or os.listdir(export) == []\n",
            before={
                "tests/test_b_report.py": _fillers("report", 3).lstrip()
                + "\n\ndef test_write_report():\n    import os\n    import tempfile\n\n"
                "    export = os.path.join(tempfile.gettempdir(), 'exports')\n    os.makedirs(export, exist_ok=True)\n"
                "    with open(os.path.join(export, 'report.csv'), 'w') as f:\n        f.write('a,b\\n')\n",
            },
        ),
        polluter="tests/test_b_report.py::test_write_report",
    ),
    Scenario(
        "leaked-env-var",
        Flakiness.ORDER_DEPENDENT,
        "tests/test_d_locale.py::test_default_currency",
        _project(
            "tests/test_d_locale.py",
            "import os\n\n\ndef currency():\n    return os.environ.get('APP_CURRENCY', 'EUR')\n\n\ndef test_default_currency():\n    assert currency() == 'EUR'\n",
            before={
                "tests/test_b_us.py": "import os\n\n\ndef test_us_store():\n    os.environ['APP_CURRENCY'] = 'USD'\n    assert os.environ['APP_CURRENCY'] == 'USD'\n"
                + _fillers("us", 4),
            },
        ),
        polluter="tests/test_b_us.py::test_us_store",
    ),
    Scenario(
        "mutated-cached-singleton",
        Flakiness.ORDER_DEPENDENT,
        "tests/test_d_settings.py::test_default_timeout",
        _project(
            "tests/test_d_settings.py",
            "from tests.settings import load\n\n\ndef test_default_timeout():\n    assert load()['timeout'] == 30\n",
            before={
                "tests/settings.py": "import functools\n\n\n@functools.lru_cache\ndef load():\n    return {'timeout': 30}\n",
                "tests/test_b_tuning.py": _fillers("tuning", 5).lstrip()
                + "\n\ndef test_fast_profile():\n    from tests.settings import load\n\n    load()['timeout'] = 5\n    assert load()['timeout'] == 5\n",
            },
        ),
        polluter="tests/test_b_tuning.py::test_fast_profile",
    ),
    # ---------------------------------------------------------------- deterministic
    Scenario(
        "off-by-one",
        Flakiness.DETERMINISTIC,
        "tests/test_d_pages.py::test_page_count",
        _project(
            "tests/test_d_pages.py",
            "def pages(items, per_page):\n    return items // per_page\n\n\ndef test_page_count():\n    assert pages(21, 10) == 3\n",
        ),
    ),
    Scenario(
        "wrong-exception",
        Flakiness.DETERMINISTIC,
        "tests/test_d_parse.py::test_bad_input_is_a_value_error",
        _project(
            "tests/test_d_parse.py",
            "import pytest\n\n\ndef parse(text):\n    return {}[text]\n\n\ndef test_bad_input_is_a_value_error():\n    with pytest.raises(ValueError):\n        parse('x')\n",
        ),
    ),
]
