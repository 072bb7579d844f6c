"""The backup status mail vzdump sends at the end of a job (options ``mailto`` and
``mailnotification``).

The mail looks like the one a Proxmox VE admin knows (pve-manager ``PVE/VZDump.pm``): the
subject ``vzdump backup status (<node>): backup successful`` (or ``backup failed``), a table
with one row per guest (VMID, NAME, STATUS, TIME, SIZE, FILENAME) and a TOTAL row, then
``Detailed backup logs:`` with every guest's log, each line prefixed by the guest's VMID. It is
sent as ``multipart/alternative`` with a plain text and an HTML part, through
:mod:`respaldo.notify.mail`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from respaldo.errors import InputError
from respaldo.formats import hms_duration, human_size
from respaldo.notify.mail import Mail, mail_settings, one_line, parse_mailto, send_mail
from respaldo.notify.notification import Notification, Severity
from respaldo.services.vzdump.jobresult import GuestResult, JobResult

#: Values of the vzdump option ``mailnotification``.
MAILNOTIFICATION_VALUES = ("always", "failure")

#: At most this many characters of guest logs go into one mail; the rest is cut off with a
#: note (the complete log stays in the ``.log`` file beside the archive).
MAX_LOG_CHARS = 1 << 20

_HEADERS = ("VMID", "NAME", "STATUS", "TIME", "SIZE", "FILENAME")


def should_send(job: JobResult, mailnotification: str) -> bool:
    """vzdump's ``mailnotification``: ``always`` sends every time, ``failure`` only when the
    job or one of its guests failed."""
    if mailnotification not in MAILNOTIFICATION_VALUES:
        raise InputError(
            "mailnotification",
            mailnotification,
            f"expected one of: {', '.join(MAILNOTIFICATION_VALUES)}",
        )
    return mailnotification == "always" or not job.ok


# -- rendering --------------------------------------------------------------------------------


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else ""


def _row(guest: GuestResult) -> tuple[str, ...]:
    """The cells of one guest's table row; a failed guest shows its error as the last cell."""
    error = _first_line(guest.error or "") or "backup failed"
    last = (guest.archive or "-") if guest.ok else error
    size = human_size(guest.size, decimals=2) if guest.archive else "-"
    cells = (str(guest.vmid), guest.name, guest.status, hms_duration(guest.seconds), size, last)
    return tuple(one_line(cell) for cell in cells)


def _total_row(job: JobResult) -> tuple[str, ...]:
    size = human_size(job.total_size, decimals=2)
    return ("TOTAL", str(len(job.guests)), "", hms_duration(job.seconds), size, "")


def _summary(job: JobResult) -> str:
    started = job.started.strftime("%Y-%m-%d %H:%M:%S")
    return (
        f"Backup job on node {one_line(job.node)} started {started}, "
        f"ran {hms_duration(job.seconds)}: {_status_words(job)}"
    )


def _status_words(job: JobResult) -> str:
    return "backup successful" if job.ok else "backup failed"


def _guest_logs(job: JobResult) -> list[tuple[GuestResult, list[str]]]:
    """Each guest's log lines prefixed ``<vmid>: ``, with at most MAX_LOG_CHARS in total."""
    budget = MAX_LOG_CHARS
    result: list[tuple[GuestResult, list[str]]] = []
    for guest in job.guests:
        lines = guest.log_text.splitlines()
        if guest.error and guest.error.strip() not in guest.log_text:
            lines += [f"ERROR: {part}" for part in guest.error.strip().splitlines()]
        if not lines:
            lines = ["(no log)"]
        shown: list[str] = []
        for index, line in enumerate(lines):
            prefixed = f"{guest.vmid}: {line.rstrip()}"
            if len(prefixed) + 1 > budget:
                left = len(lines) - index
                shown.append(
                    f"{guest.vmid}: [log cut off, {left} more line(s) not shown; the full log "
                    "is in the .log file beside the archive]"
                )
                budget = 0
                break
            budget -= len(prefixed) + 1
            shown.append(prefixed)
        result.append((guest, shown))
    return result


def _render_text(job: JobResult) -> str:
    rows = [_HEADERS, *(_row(guest) for guest in job.guests), _total_row(job)]
    widths = [max(len(row[col]) for row in rows) for col in range(len(_HEADERS))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(width) for cell, width in zip(cells, widths, strict=True)
        ).rstrip()

    out = [_summary(job)]
    if job.job_error:
        out.append(f"Job error: {one_line(job.job_error)}")
    out += ["", line(rows[0])]
    out += [line(row) for row in rows[1:-1]]
    out += ["", line(rows[-1]), "", "Detailed backup logs:", ""]
    out.append(f"vzdump backup job on node {one_line(job.node)}")
    for _guest, lines in _guest_logs(job):
        out += ["", *lines]
    return "\n".join(out) + "\n"


def _render_html(job: JobResult, subject: str) -> str:
    def esc(text: str) -> str:
        return html.escape(text, quote=True)

    def cells(row: tuple[str, ...], tag: str = "td") -> str:
        return "".join(f"<{tag}>{esc(cell)}</{tag}>" for cell in row)

    out = [
        "<!DOCTYPE html>",
        "<html>",
        f'<head><meta charset="utf-8"><title>{esc(subject)}</title></head>',
        '<body style="font-family: sans-serif;">',
        f"<p>{esc(_summary(job))}</p>",
    ]
    if job.job_error:
        out.append(f'<p style="color: #c00;">Job error: {esc(job.job_error)}</p>')
    out += [
        '<table border="1" cellpadding="4" cellspacing="0" style="border-collapse: collapse;">',
        f"<thead><tr>{cells(_HEADERS, 'th')}</tr></thead>",
        "<tbody>",
    ]
    for guest in job.guests:
        row = _row(guest)
        anchor = f'<td><a href="#log-{guest.vmid}">{esc(row[0])}</a></td>'
        style = "" if guest.ok else ' style="color: #c00;"'
        out.append(f"<tr{style}>{anchor}{cells(row[1:])}</tr>")
    out += [
        "</tbody>",
        f'<tfoot><tr style="font-weight: bold;">{cells(_total_row(job))}</tr></tfoot>',
        "</table>",
        "<h3>Detailed backup logs:</h3>",
        f"<pre>vzdump backup job on node {esc(one_line(job.node))}</pre>",
    ]
    for guest, lines in _guest_logs(job):
        out.append(f'<pre id="log-{guest.vmid}">{esc(chr(10).join(lines))}</pre>')
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def render_job_mail(job: JobResult) -> Mail:
    """The status mail of a finished job, as text and HTML (everything HTML-escaped)."""
    subject = f"vzdump backup status ({one_line(job.node)}): {_status_words(job)}"
    return Mail(subject=subject, text=_render_text(job), html=_render_html(job, subject))


def job_notification(job: JobResult, job_id: str | None = None) -> Notification:
    """The job's notification for the notification system: the status mail's subject, text
    and HTML; severity ``info``, or ``error`` when a guest or the job failed; the fields
    ``type`` (``vzdump``), ``hostname`` and, for a scheduled job, ``job-id``."""
    mail = render_job_mail(job)
    fields = {"type": "vzdump", "hostname": job.node}
    if job_id:
        fields["job-id"] = job_id
    return Notification(
        Severity.INFO if job.ok else Severity.ERROR,
        mail.subject,
        mail.text,
        int(job.started.timestamp()),
        fields,
        mail.html,
    )


# -- sending ----------------------------------------------------------------------------------


def send_job_mail(
    job: JobResult,
    mailto: str | list[str],
    mailnotification: str = "always",
    node_cfg: Mapping[str, str] | None = None,
    timeout: float = 10,
) -> bool:
    """The end of a vzdump job: mail its status to ``mailto`` if ``mailnotification`` says so.

    ``mailto`` is vzdump's option text (see :func:`parse_mailto`) or a list of addresses.
    Returns whether a mail was sent (False without recipients or when ``failure`` and the job
    succeeded).
    """
    send = should_send(job, mailnotification)
    recipients = parse_mailto(mailto) if isinstance(mailto, str) else list(mailto)
    if not send or not recipients:
        return False
    relay, sender = mail_settings(node_cfg or {})
    send_mail(relay, sender, recipients, render_job_mail(job), timeout)
    return True
