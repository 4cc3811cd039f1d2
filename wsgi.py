"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``."""

import gc

from cylinder_trace import create_app

app = create_app()

# What start-up built (the app, its schemas, mappers, compiled statements: ~170,000 objects)
# lives as long as the process. Frozen, the garbage collector stops walking it on every
# full collection: that walk took ~15% of a worker's CPU on batches of scans.
gc.collect()
gc.freeze()
# A batch of 500 scans leaves ~8,000 short-lived containers: at the default threshold (700
# allocations) that was a dozen young collections per batch, ~1.4 of 47 ms; at 50,000 a
# collection comes every few batches and holds at most a few megabytes of garbage.
gc.set_threshold(50_000)
