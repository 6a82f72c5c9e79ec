"""Following a job from the command line: a rich progress bar until it ends."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ccmops.jobs.models import Job


def describe(job: Job) -> str:
    lines = [f"{job.label} — {job.get_status_display()}", f"  job {job.id}"]
    if job.requested_by_id:
        lines.append(f"  asked by {job.requested_by}")
    if job.total:
        lines.append(f"  {job.done} of {job.total}" + (f" · {job.step}" if job.step else ""))
    elif job.step:
        lines.append(f"  {job.step}")
    if job.attempts > 1 or job.retries:
        lines.append(f"  attempt {job.attempts} of {job.max_attempts}")
    if job.error:
        lines.append(f"  {job.error}")
    if job.status == "succeeded" and job.result:
        lines.extend(f"  {k.replace('_', ' ')}: {v}" for k, v in job.result.items() if not isinstance(v, dict | list))
    if job.file_path:
        lines.append(f"  file: {job.file_path}")
    return "\n".join(lines)


def follow(job_id, *, console: Console | None = None, poll: float = 0.5) -> Job:
    """Show the job's progress until it has finished; return it as it ended."""
    console = console or Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("waiting for a worker", total=None)
        while True:
            job = Job.objects.select_related("requested_by").get(pk=job_id)
            what = job.step or job.get_status_display()
            bar.update(task, description=what[:60], completed=job.done, total=job.total)
            if job.finished:
                return job
            time.sleep(poll)


def queued(job: Job, *, wait: bool, out) -> Job | None:
    """A job a command handed to the workers: without `wait`, say how to follow it and return None; with it,
    follow it with the progress bar and return it as it ended."""
    if not wait:
        out.write(f"queued job {job.id} ({job.label}); follow it: ccmops jobs show {job.id} --wait")
        return None
    return follow(job.pk)
