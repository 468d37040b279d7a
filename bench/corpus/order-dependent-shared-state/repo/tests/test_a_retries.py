from app import config


def test_retries():
    assert config.settings["retries"] == 3


def test_keys():
    assert set(config.settings) == {"mode", "retries"}
