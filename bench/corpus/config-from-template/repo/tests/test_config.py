from app.config import base_url, load


def test_base_url():
    assert base_url() == "http://127.0.0.1:8080"


def test_greeting():
    assert load()["features"]["greeting"] == "hello"
