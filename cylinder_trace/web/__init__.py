"""The HTTP layer: the flask-smorest Api, blueprints, access control and the error format."""
