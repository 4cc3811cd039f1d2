"""Registered scanning devices: handhelds, filling scales, station terminals."""
