"""Names, places and words for demo customers: Spain, Latin America, Brazil and Portugal, and
English speakers (mostly the US). The name lists themselves are data, in names.csv.

Weights follow the real frequency order (María, José, García, Rodríguez… first), so a large
demo has what a real contact centre has: hundreds of "María García", García, Silva, Rodríguez
and González each in several per cent of customers, compound first names (Ana María, José
Luis, María del Carmen), particles (da, de, del, dos) and names of three to five words.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Origin:
    """Where a customer's name comes from, and where such customers live."""

    key: str
    share: float
    female: tuple[tuple[str, float], ...]
    male: tuple[tuple[str, float], ...]
    surnames: tuple[tuple[str, float], ...]
    two_surnames: bool
    countries: tuple[tuple[str, float], ...]
    language: str
    """Language of the subjects of this customer's interactions: es or en."""
    middle_share: float = 0.0
    """Share of customers with a second given name drawn from the same list (English)."""
    third_surname_share: float = 0.0
    """Share with a third surname word (Brazilians often carry mother's and father's)."""


_WEIGHTED = Path(__file__).with_name("names.csv")
"""Every list of names as (list, name, weight) rows, the commonest first within a list."""


def _load() -> dict[str, tuple[tuple[str, float], ...]]:
    lists: dict[str, list[tuple[str, float]]] = {}
    with _WEIGHTED.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            lists.setdefault(row["list"], []).append((row["name"], float(row["weight"])))
    return {key: tuple(names) for key, names in lists.items()}


_LISTS = _load()
SPANISH_FEMALE = _LISTS["spanish_female"]
SPANISH_MALE = _LISTS["spanish_male"]
SPANISH_SURNAMES = _LISTS["spanish_surnames"]
LATAM_FEMALE = _LISTS["latam_female"]
LATAM_MALE = _LISTS["latam_male"]
LATAM_SURNAMES = _LISTS["latam_surnames"]
ENGLISH_FEMALE = _LISTS["english_female"]
ENGLISH_MALE = _LISTS["english_male"]
ENGLISH_SURNAMES = _LISTS["english_surnames"]
PORTUGUESE_FEMALE = _LISTS["portuguese_female"]
PORTUGUESE_MALE = _LISTS["portuguese_male"]
PORTUGUESE_SURNAMES = _LISTS["portuguese_surnames"]

ORIGINS: tuple[Origin, ...] = (
    Origin(
        "spanish", 0.52, SPANISH_FEMALE, SPANISH_MALE, SPANISH_SURNAMES, True,
        (("ES", 1.0),), "es",
    ),
    Origin(
        "latam", 0.24, LATAM_FEMALE, LATAM_MALE, LATAM_SURNAMES, True,
        (("ES", 0.55), ("MX", 0.15), ("AR", 0.08), ("CO", 0.09), ("PE", 0.05), ("CL", 0.04),
         ("EC", 0.04)),
        "es",
    ),
    Origin(
        "english", 0.10, ENGLISH_FEMALE, ENGLISH_MALE, ENGLISH_SURNAMES, False,
        (("ES", 0.25), ("GB", 0.25), ("US", 0.45), ("IE", 0.05)), "en", middle_share=0.3,
    ),
    Origin(
        "portuguese", 0.14, PORTUGUESE_FEMALE, PORTUGUESE_MALE, PORTUGUESE_SURNAMES, True,
        (("ES", 0.15), ("PT", 0.25), ("BR", 0.60)), "es", third_surname_share=0.25,
    ),
)  # fmt: skip

CITIES: dict[str, tuple[tuple[str, float], ...]] = {
    "ES": (
        ("Madrid", 6.5), ("Barcelona", 3.5), ("Valencia", 1.6), ("Sevilla", 1.4),
        ("Zaragoza", 1.3), ("Málaga", 1.2), ("Murcia", 0.9), ("Palma", 0.8),
        ("Las Palmas de Gran Canaria", 0.7), ("Bilbao", 0.7), ("Alicante", 0.7),
        ("Córdoba", 0.6), ("Valladolid", 0.6), ("Vigo", 0.6), ("Gijón", 0.5),
        ("L'Hospitalet de Llobregat", 0.5), ("A Coruña", 0.5), ("Vitoria-Gasteiz", 0.5),
        ("Granada", 0.5), ("Elche", 0.5), ("Oviedo", 0.4), ("Santa Cruz de Tenerife", 0.4),
        ("Badalona", 0.4), ("Cartagena", 0.4), ("Terrassa", 0.4), ("Jerez de la Frontera", 0.4),
        ("Sabadell", 0.4), ("Móstoles", 0.4), ("Alcalá de Henares", 0.4), ("Pamplona", 0.4),
        ("Almería", 0.4), ("Fuenlabrada", 0.4), ("Leganés", 0.3), ("San Sebastián", 0.4),
        ("Santander", 0.3), ("Burgos", 0.3), ("Castellón de la Plana", 0.3), ("Albacete", 0.3),
        ("Getafe", 0.3), ("Salamanca", 0.3), ("Logroño", 0.3), ("Huelva", 0.3), ("Cáceres", 0.2),
        ("León", 0.3), ("Cádiz", 0.2), ("Jaén", 0.2), ("Ourense", 0.2), ("Lleida", 0.2),
        ("Tarragona", 0.2), ("Girona", 0.2), ("Lugo", 0.2), ("Toledo", 0.2), ("Ávila", 0.1),
        ("Segovia", 0.1), ("Cuenca", 0.1), ("Soria", 0.1), ("Teruel", 0.1), ("Zamora", 0.1),
    ),
    "MX": (("Ciudad de México", 3.0), ("Guadalajara", 1.2), ("Monterrey", 1.1), ("Puebla", 0.7),
           ("Querétaro", 0.4), ("Mérida", 0.4), ("Tijuana", 0.5), ("León", 0.4)),
    "AR": (("Buenos Aires", 3.0), ("Córdoba", 1.0), ("Rosario", 0.8), ("Mendoza", 0.5),
           ("La Plata", 0.4)),
    "CO": (("Bogotá", 3.0), ("Medellín", 1.3), ("Cali", 1.0), ("Barranquilla", 0.6),
           ("Cartagena de Indias", 0.4)),
    "PE": (("Lima", 3.0), ("Arequipa", 0.6), ("Trujillo", 0.5), ("Cusco", 0.3)),
    "CL": (("Santiago", 3.0), ("Valparaíso", 0.6), ("Concepción", 0.5), ("Antofagasta", 0.3)),
    "EC": (("Quito", 1.5), ("Guayaquil", 1.8), ("Cuenca", 0.4)),
    "GB": (("London", 3.0), ("Manchester", 0.8), ("Birmingham", 0.8), ("Leeds", 0.5),
           ("Glasgow", 0.5), ("Bristol", 0.4), ("Edinburgh", 0.4)),
    "US": (("New York", 1.5), ("Miami", 1.5), ("Los Angeles", 1.2), ("Houston", 0.8),
           ("Chicago", 0.7)),
    "IE": (("Dublin", 2.0), ("Cork", 0.5), ("Galway", 0.3)),
    "PT": (("Lisboa", 2.5), ("Porto", 1.5), ("Braga", 0.5), ("Coimbra", 0.4), ("Faro", 0.3)),
    "BR": (("São Paulo", 3.0), ("Rio de Janeiro", 1.8), ("Belo Horizonte", 0.6),
           ("Brasília", 0.5), ("Salvador", 0.5), ("Curitiba", 0.4)),
}  # fmt: skip

EMAIL_DOMAINS = (
    ("gmail.com", 6.0), ("hotmail.com", 2.5), ("yahoo.es", 1.0), ("outlook.es", 1.0),
    ("hotmail.es", 1.0), ("icloud.com", 0.8), ("telefonica.net", 0.4), ("yahoo.com", 0.5),
    ("outlook.com", 0.6), ("gmx.es", 0.2), ("live.com", 0.3), ("movistar.es", 0.2),
)  # fmt: skip
WORK_DOMAINS = (
    "iberdata.es",
    "grupoalba.com",
    "construcciones-rivas.es",
    "ayto-demo.es",
    "clinicasol.es",
    "logisur.com",
    "hoteleslumen.com",
    "asesoriavega.es",
    "colegiosanjorge.es",
    "farmaciaroca.es",
)

AGENTS: tuple[tuple[str, str, str], ...] = (
    ("lucia.moreno", "Lucía Moreno", "agent"),
    ("javier.ortega", "Javier Ortega", "agent"),
    ("ana.ruiz", "Ana Ruiz", "agent"),
    ("david.santos", "David Santos", "agent"),
    ("carmen.vidal", "Carmen Vidal", "agent"),
    ("sergio.navas", "Sergio Navas", "agent"),
    ("paula.iglesias", "Paula Iglesias", "agent"),
    ("tom.walsh", "Tom Walsh", "agent"),
    ("marta.herrero", "Marta Herrero", "supervisor"),
)
"""(user name, display name, role): a team of agents and their supervisor."""

FORMER_AGENTS = ("rgomez", "pfernandez", "mlopez", "jnavarro", "ecastro", "agil", "bsoto")
"""User names in older history, of agents who have since left."""
