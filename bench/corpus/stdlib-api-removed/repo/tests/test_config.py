from inventory.config import merged


def test_overrides_win():
    assert merged({"a": 1, "b": 2}, {"a": 3}) == {"a": 3, "b": 2}
