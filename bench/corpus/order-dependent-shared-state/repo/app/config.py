settings = {"mode": "production", "retries": 3}


def mode():
    return settings["mode"]
