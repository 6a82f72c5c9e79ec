"""Model-fit assessment: which operating model a practice can execute consistently (pure core in fit.py)."""
