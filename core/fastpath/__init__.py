"""Writing straight to the drivers (sqlite3, asyncpg), past SQLAlchemy's per-row work.

Bulk paths (the importer, the demo, the search index rebuild) hand the drivers values in the
very form SQLAlchemy's types would have stored them, so the models read the rows back as if
the ORM had written them. One module per database holds those conversions: `sqlite` (text
dates and times, 0/1 flags, float money) and `postgres` (naive UTC datetimes, `$n`
placeholders). The SQLite text of a moment itself is core.models.types.sqlite_time.
"""
