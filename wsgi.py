"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``."""

import gc

from cylinder_trace import create_app

app = create_app()

# What start-up built (the app, its schemas, mappers, compiled statements: ~170,000 objects)
# lives as long as the process. Frozen, the garbage collector stops walking it on every
# full collection: that walk took ~15% of a worker's CPU on batches of scans.
gc.collect()
gc.freeze()
