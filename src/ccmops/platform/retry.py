"""How long to wait before trying a remote service again (the EHR, a text or email provider): 1, 2, 4 … minutes,
at most an hour; longer when the service's Retry-After asks for it (never more than an hour)."""

from __future__ import annotations

LONGEST_WAIT = 3600


def backoff(attempts: int, retry_after: int | None = None) -> int:
    """Seconds until the next try after `attempts` tries."""
    wait = min(60 * 2 ** max(attempts - 1, 0), LONGEST_WAIT)
    return max(wait, min(retry_after or 0, LONGEST_WAIT))
