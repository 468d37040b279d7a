"""Parcel rates: a base price per zone and a surcharge per started kilogram."""

BASE = {"domestic": 4.5, "eu": 9.0, "world": 18.0}
PER_KG = {"domestic": 0.8, "eu": 1.6, "world": 3.2}


def rate(zone: str, weight_kg: float) -> float:
    if weight_kg <= 0:
        raise ValueError("a parcel weighs something")
    started = int(weight_kg) + (0 if weight_kg == int(weight_kg) else 1)
    return round(BASE[zone] + PER_KG[zone] * started, 2)
