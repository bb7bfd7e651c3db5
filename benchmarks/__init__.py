"""Reproducible performance measurements; each script generates its data and prints figures."""
