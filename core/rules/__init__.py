"""Offer rules: file format, validation, evaluation, contact policy, arbitration, learning.

Supervisors write offers in a TOML file (core/rules/example_rules.toml is the example);
`core.rules.loader` checks it, `core.rules.engine` judges the offers for one customer,
`core.rules.service.OfferService` serves the console, `core.rules.simulate` the whole base.
"""
