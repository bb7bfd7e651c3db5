"""The HTTP API that phone systems call (screen pop, queue events)."""

from core.api.app import create_app

__all__ = ["create_app"]
