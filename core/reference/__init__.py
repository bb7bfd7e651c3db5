"""Reference data every part of Frontline agrees on: the product catalogue, countries and
their calling codes. Loyalty tiers live with their rules in core.analytics.loyalty."""
