"""Scheduled backup jobs: calendar events, ``jobs.cfg`` and the scheduler.

- :mod:`respaldo.jobs.calendar`: Proxmox's calendar events (``mon..fri 21:00``) and when
  they next occur, in local time.
- :mod:`respaldo.jobs.jobscfg`: the ``vzdump: <id>`` sections of ``config/jobs.cfg``, edited
  as ``/cluster/backup`` edits them.
- :mod:`respaldo.jobs.state`: the per-job state files ``run/jobs/vzdump-<id>.json`` (last
  run, its UPID and result).
- :mod:`respaldo.jobs.scheduler`: which runs are due, claiming each run once, starting it
  through a callback.
"""
