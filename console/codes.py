"""Codes on screen: a stored id (`complaint`) read as its label in the agent's language
(`Reclamación`), and picked by typing the label's words (`reclam`).

The labels come from the services' code book (`services.codes`, core/i18n/codes.py);
make_services makes that book the process's, so a widget without services at hand reads the
same one. core is imported here only when a code is first shown: the console draws first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.i18n.codes import CodeBook, Kind


def book(services: object = None) -> CodeBook:
    """The services' code book, else the process's (the same once the services are made)."""
    from core.i18n.codes import codes

    found = getattr(services, "codes", None)
    return found if found is not None else codes()


def code_label(kind: Kind, code_id: str, codes: CodeBook | None = None) -> str:
    """What a person reads for a stored id (an unknown id shows as itself; "" stays "")."""
    if not code_id:
        return ""
    return (codes or book()).label(kind, code_id)
