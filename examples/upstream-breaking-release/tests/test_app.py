from shop.app import create_app


def test_known_item_has_a_price() -> None:
    client = create_app().test_client()
    response = client.get("/prices/apple")
    assert response.status_code == 200
    assert response.get_json() == {"item": "apple", "price": 3}


def test_unknown_item_is_404() -> None:
    client = create_app().test_client()
    assert client.get("/prices/plum").status_code == 404
