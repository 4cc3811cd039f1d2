"""Catering users (餐饮用户): weekly door-to-door checks, hazards, and the bureau's review.

A catering user is a business customer with ``is_catering`` (cylinder_trace.customers);
this package adds its safety equipment, the checks its gas company records, the hazards
those checks find, and the status lists and summaries the commerce bureau reads. Who sees
which users is ``cylinder_trace.access`` (by the premises' district); the zone and rules
come from the settings.

| module | job |
| --- | --- |
| ``models`` | checks, their items and files, hazards |
| ``constants`` | the list's sort and hazard filter names, the equipment fields |
| ``status`` | the present (``clock``), its period, status and past-deadline conditions |
| ``lookup`` | the one user a request names: read, change, record a visit to |
| ``rows`` | the review row (the API, the exports and the pages) and the hazard row |
| ``review`` | the bureau's list: filters, order, count, the rows for the exports |
| ``summary`` | counts per supplier and per district |
| ``checks`` | recording a visit: items, files, hazards opened and closed, status |
| ``equipment`` | recording the safety equipment |
| ``history`` | reading visits, their files and hazards |
| ``export`` | CSV and XLSX of the review rows |
| ``api`` | the one blueprint: ``review_api`` and ``checks_api`` (``blueprint_api``) |
"""
