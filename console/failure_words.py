"""Why a write failed, in plain words: core.errors.plain_reason, imported when first needed.

core.errors reads the database layer (SQLAlchemy, the models): at module level in a screen it
put about half a second of imports before the console's first frame.
"""

from __future__ import annotations


def plain_reason(error: BaseException, url: str | None = None) -> str:
    """The database's failure said plainly ("the database cannot be reached …"), else the
    error's own text."""
    from core.errors import plain_reason as reason

    return reason(error, url)
