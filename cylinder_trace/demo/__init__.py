"""A small realistic world to try the service with."""
