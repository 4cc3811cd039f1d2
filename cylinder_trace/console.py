"""The ``cylinder-trace`` command: Flask's command line around ``create_app()``.

Kept apart from cli.py (the commands), which the app imports to register them: the command
line builds the app, the app does not build the command line.
"""

from __future__ import annotations

from flask.cli import FlaskGroup

from cylinder_trace.app import create_app

main = FlaskGroup(create_app=lambda: create_app(), help="cylinder-trace administration.")
