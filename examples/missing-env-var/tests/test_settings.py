from billing import settings


def test_invoice_prefix_uses_region_and_currency():
    assert settings.invoice_prefix() == "EU-WEST-1-EUR"


def test_region_is_a_known_region():
    assert settings.REGION in {"eu-west-1", "us-east-1"}
