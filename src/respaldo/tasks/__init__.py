"""Tasks: long work (backup, restore, prune, VM power) with a UPID, a log and a status.

- :mod:`respaldo.tasks.context`: the :class:`TaskContext` a service reports to.
- :mod:`respaldo.tasks.upid`: the UPID (Proxmox's task name) and its text form.
- :mod:`respaldo.tasks.store`: task logs, the active list and the index; the task list,
  a task's status and log as the API gives them.
- :mod:`respaldo.tasks.worker`: running a task (``spawn`` for the server, ``run_foreground``
  for the CLI) and stopping one.
"""
