"""The cylinder registry: codes, models, owners, inspection and scrap dates, labels."""
