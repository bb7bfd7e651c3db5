"""Countries as customers' files write them, and their telephone calling codes."""

from __future__ import annotations

COUNTRY_NAMES: dict[str, str] = {
    "spain": "ES", "españa": "ES", "espana": "ES", "mexico": "MX", "méxico": "MX",
    "argentina": "AR", "colombia": "CO", "peru": "PE", "perú": "PE", "chile": "CL",
    "ecuador": "EC", "portugal": "PT", "brazil": "BR", "brasil": "BR", "united kingdom": "GB",
    "uk": "GB", "reino unido": "GB", "ireland": "IE", "irlanda": "IE", "france": "FR",
    "francia": "FR", "germany": "DE", "alemania": "DE", "italy": "IT", "italia": "IT",
    "united states": "US", "usa": "US", "estados unidos": "US", "venezuela": "VE",
    "uruguay": "UY", "paraguay": "PY", "bolivia": "BO", "cuba": "CU", "morocco": "MA",
    "marruecos": "MA", "romania": "RO", "rumanía": "RO", "rumania": "RO",
}  # fmt: skip
"""Common country names (lower case, English and Spanish) -> ISO 3166-1 alpha-2 code."""

CALLING_CODES: dict[str, str] = {
    "ES": "34", "MX": "52", "AR": "54", "CO": "57", "PE": "51", "CL": "56", "EC": "593",
    "GB": "44", "US": "1", "IE": "353", "PT": "351", "BR": "55", "FR": "33", "DE": "49",
    "IT": "39", "VE": "58", "UY": "598", "PY": "595", "BO": "591", "CU": "53", "MA": "212",
    "RO": "40",
}  # fmt: skip
"""ISO code -> international calling code (digits, no "+")."""
TRUNK_ZERO = frozenset({"GB", "IE", "FR", "DE", "IT", "AR", "BR", "PE", "MA", "RO"})
"""Countries whose national numbers are dialled with a leading 0 that the international form
drops ("020 7946 0000" in London is +44 20 7946 0000)."""
