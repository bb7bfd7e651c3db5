"""Who may see what: roles, masking, reveals, a customer's data exported or erased."""
