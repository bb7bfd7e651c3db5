"""Frontline's terminal console and command line."""
