"""People who use the service: one role in one organisation."""
