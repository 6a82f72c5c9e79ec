"""The practice's EHR, connected (issue 34): SMART Backend Services authorization, the connection test, and the
delivery of what the outbox owes the EHR (`ccmops.outbox`)."""
