"""The product catalogue every part of Frontline agrees on (code -> line), with names and prices.

The importer adds any product of it a database lacks; the demo sells from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class CatalogueProduct:
    code: str
    name: str
    line: str
    price: Decimal


CATALOGUE: tuple[CatalogueProduct, ...] = (
    CatalogueProduct("MOBILE_BASIC", "Móvil Básico 10 GB", "mobile", Decimal("9.90")),
    CatalogueProduct("MOBILE_PLUS", "Móvil Plus 50 GB", "mobile", Decimal("19.90")),
    CatalogueProduct("MOBILE_UNLIMITED", "Móvil Ilimitado", "mobile", Decimal("29.90")),
    CatalogueProduct("FIBRE_300", "Fibra 300 Mb", "fibre", Decimal("29.90")),
    CatalogueProduct("FIBRE_600", "Fibra 600 Mb", "fibre", Decimal("39.90")),
    CatalogueProduct("FIBRE_1G", "Fibra 1 Gb", "fibre", Decimal("49.90")),
    CatalogueProduct("TV_ESSENTIAL", "TV Esencial", "tv", Decimal("12.00")),
    CatalogueProduct("TV_SPORTS", "TV Deportes", "tv", Decimal("25.00")),
    CatalogueProduct("TV_CINEMA", "TV Cine y Series", "tv", Decimal("15.00")),
    CatalogueProduct("ENERGY_LIGHT", "Luz Tarifa Fija", "energy", Decimal("45.00")),
    CatalogueProduct("ENERGY_GAS", "Gas Natural", "energy", Decimal("35.00")),
    CatalogueProduct("INSURE_HOME", "Seguro de Hogar", "insurance", Decimal("18.50")),
    CatalogueProduct("INSURE_DEVICE", "Seguro de Dispositivo", "insurance", Decimal("7.95")),
    CatalogueProduct("DEVICE_PHONE", "Smartphone", "devices", Decimal("399.00")),
    CatalogueProduct("DEVICE_TABLET", "Tableta", "devices", Decimal("299.00")),
    CatalogueProduct("DEVICE_ROUTER", "Router Wi-Fi 6", "devices", Decimal("89.00")),
)

LINES: tuple[str, ...] = ("mobile", "fibre", "tv", "energy", "insurance", "devices")
