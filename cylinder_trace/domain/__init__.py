"""The domain core: rules, states and checks with no Flask and no SQLAlchemy in them."""
