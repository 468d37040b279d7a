from inventory.config import capacity, load

SAMPLE = """
warehouses:
  - name: north
    capacity: 120
  - name: south
    capacity: 80
"""


def test_load_reads_warehouses():
    assert [w["name"] for w in load(SAMPLE)["warehouses"]] == ["north", "south"]


def test_capacity_sums_warehouses():
    assert capacity(load(SAMPLE)) == 200


def test_empty_config_has_no_warehouses():
    assert load("")["warehouses"] == []
