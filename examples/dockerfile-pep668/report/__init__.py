"""A nightly report job."""
