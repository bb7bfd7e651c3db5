"""Offer rules: file format, validation, evaluation, contact policy, arbitration, learning.

Supervisors write offers in a TOML file (core/rules/example_rules.toml is the example);
`core.rules.loader` checks it (with `core.rules.checker`), `core.rules.policy` holds validity
and the contact policy as one list of named checks, `core.rules.engine` judges the offers for
one customer and `core.rules.arbitration` picks among them; `core.rules.service.OfferService`
serves the console, `core.rules.simulate` (conditions over a batch: `core.rules.evaluator`)
the whole base.
"""
