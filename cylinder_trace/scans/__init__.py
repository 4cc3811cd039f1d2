"""Scans: every step of a cylinder's life, recorded once, checked, kept for good."""
