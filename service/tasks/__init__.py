"""Queued work as Celery tasks: briefings, digest runs fanned out per story, and the schedule.

The database is the system of record: a job's row is written before its task is sent, a task
carries only the job's id, and a task takes its job by compare-and-set on the row, so sending a
task twice is harmless (service/storage/jobs.py).
"""
