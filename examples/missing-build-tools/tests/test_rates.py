import pytest

from shipping.rates import rate


def test_domestic_parcel():
    assert rate("domestic", 2) == 6.1


def test_a_started_kilogram_counts():
    assert rate("eu", 1.2) == 12.2


def test_weightless_parcels_are_refused():
    with pytest.raises(ValueError):
        rate("world", 0)
