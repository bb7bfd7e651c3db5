"""Demo data: a realistic, deterministic customer base for trying Frontline out."""
