"""Loyalty status and customer value: RFM, tenure/scope/depth, NPS, lifetime value."""
