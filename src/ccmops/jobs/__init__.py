"""Background jobs: long work off the request, with progress, never lost and never run twice.

The queue is django-tasks' database backend (`django_tasks_db`: its table, its row claim with
`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL and an exclusive transaction on SQLite). Around it, a `Job` row per
piece of work holds what people see and what makes the work safe: who asked, for which practice, progress, a lease
renewed while the work runs (a killed worker's job is picked up again once it lapses), a fencing token (only the
attempt holding it may finish the job, in the same transaction as the job's last effects), retries with backoff,
and a once-per-period key for scheduled work. docs/jobs.md says how to add a kind of job.
"""
