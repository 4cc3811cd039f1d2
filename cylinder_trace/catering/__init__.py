"""Catering users (餐饮用户): weekly door-to-door checks, hazards, and the bureau's review.

A catering user is a business customer with ``is_catering`` (cylinder_trace.customers);
this package adds its safety equipment, the checks its gas company records, the hazards
those checks find, and the status lists and summaries the commerce bureau reads.
"""
