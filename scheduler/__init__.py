"""CoE Herald core: database, ingest, matching and planning, dispatch, daemon, CLI."""
