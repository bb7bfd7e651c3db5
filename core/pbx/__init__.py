"""Adapters from phone systems onto the canonical call event (`core.calls.model.EventRequest`)."""
