import json
import os
import tempfile

from app.prices import total

CACHE = os.path.join(tempfile.gettempdir(), "greenline-bench-price-cache.json")


def test_total():
    assert total([1.10, 2.20]) == 3.3


def test_cache_is_warm():
    warm = os.path.exists(CACHE)
    with open(CACHE, "w") as handle:
        json.dump({"eur": 1.0}, handle)
    assert warm, "price cache was cold"
