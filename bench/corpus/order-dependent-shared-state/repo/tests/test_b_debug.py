from app import config


def test_debug_mode_is_switchable():
    config.settings["mode"] = "debug"
    assert config.mode() == "debug"
