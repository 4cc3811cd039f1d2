"""Administrative divisions (GB/T 2260): the names behind the 6-digit district codes.

The package ships the province-level units and Chongqing's districts and counties in full
(``gbt2260.csv``, loaded by migration 0014); ``cylinder-trace divisions load FILE`` adds
or renames the rest from a CSV of ``code,name``.
"""
