from app import config


def test_default_mode_is_production():
    assert config.mode() == "production"
