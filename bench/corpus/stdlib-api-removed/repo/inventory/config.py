from collections import Mapping


def merged(defaults, overrides):
    if not isinstance(overrides, Mapping):
        raise TypeError("overrides must be a mapping")
    return {**defaults, **overrides}
