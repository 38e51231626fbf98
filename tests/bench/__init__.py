"""`make bench`: performance suites run against real processes on loopback (see run.py)."""
