"""A tiny catalogue service."""

from flask import Flask, jsonify

PRICES = {"apple": 3, "pear": 4}


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/prices/<item>")
    def price(item: str):
        if item not in PRICES:
            return jsonify(error=f"no such item: {item}"), 404
        return jsonify(item=item, price=PRICES[item])

    return app
