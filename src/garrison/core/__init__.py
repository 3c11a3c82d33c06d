"""Settings, database, migrations, audit log, errors and the shared tabular reader."""
