"""Frontline's domain: models, storage, search, analytics, rules and services. No UI here."""
