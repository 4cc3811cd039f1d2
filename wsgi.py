"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``."""

from cylinder_trace import create_app

app = create_app()
