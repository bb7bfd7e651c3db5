"""Customer search: normalisation, the index in the database, ranking."""
