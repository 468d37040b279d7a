from app.payments import client_config


def test_config_has_a_key():
    assert client_config()["key"]
