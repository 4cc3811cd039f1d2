"""Real-name customers (实名制购气): the persons and businesses gas may be sold to."""
