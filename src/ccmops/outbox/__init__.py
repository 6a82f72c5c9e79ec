"""What ccmops owes the practice's EHR (issue 34): the practice's EHR connection and the transactional outbox."""
