"""Tasks: long work (backup, restore, prune, VM power) with a UPID, a log and a status.

:mod:`respaldo.tasks.context` is what services see: a :class:`TaskContext` to report to.
"""
