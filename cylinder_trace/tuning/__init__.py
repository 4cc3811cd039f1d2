"""Production database settings: what a province's data needs of PostgreSQL, checked."""
