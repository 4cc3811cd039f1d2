"""Liveness and readiness: version, and whether the database answers."""
