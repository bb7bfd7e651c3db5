"""Alembic migrations, shipped inside the package so `frontline db upgrade` finds them."""
