"""Patients in the loop (issue 36): a patient page reached by link and one-time code, electronic consent, check-ins,
secure messages, and the text messages and emails that say something waits — each delivery tracked."""
