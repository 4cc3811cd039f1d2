"""Fast paths: quicker stand-ins for slower definitions, each held equal by a test.

See README.md here for the list: what each shortcut stands in for, where it is taken, and
the test that holds the two equal. This package imports nothing of its own modules, so
using one shortcut loads only that one.
"""
