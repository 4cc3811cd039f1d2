"""Gas companies, their filling stations and supply points, commerce bureaus and regulators."""
