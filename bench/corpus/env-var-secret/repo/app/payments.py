import os


def client_config():
    return {"region": os.environ["APP_REGION"], "key": os.environ["PAYMENTS_API_KEY"]}
