"""gunicorn's settings for cylinder-trace: gunicorn reads this file from the working directory.

Settings given on the command line win over these.
"""

# A sync worker that answers nothing for ``timeout`` seconds is killed. The longest answer is
# the city-wide catering export (100,000 users as XLSX: ~18 s on 2 cores, more on a busy
# machine); at the default 30 s it would be cut off midway on a slower one.
timeout = 120
