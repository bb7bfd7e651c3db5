"""Known failures shared by several services: one class each, so that callers catch one name."""

from __future__ import annotations


class CustomerNotFound(LookupError):
    """No customer has that id or customer number."""
