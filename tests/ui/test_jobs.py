"""Datacenter → Backup and Datacenter → Notifications in Chromium, as a Proxmox user works
there: a backup job created, its next run seen, edited, its disks and schedule looked at, run
now with its task followed to the end, removed; the guests no job covers; an SMTP target to a
local SMTP server with a matcher, and "Test" delivering; every new dialog completed and
cancelled with the keyboard; axe-core on each new view and dialog. One server for the file.
The screenshots of the jobs grid, the job editor, the job detail and the notifications view
in the README are taken here."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Locator, expect

from tests.ui.conftest import TASK_TIMEOUT, Node100, Ui
from tests.ui.test_keyboard_axe import focused, press_on, tab_to

pytestmark = [pytest.mark.browser, pytest.mark.qemu, pytest.mark.timeout(480)]


def next_daily(hour: int, minute: int) -> str:
    """The next hour:minute from now in local time, as the grid shows a time."""
    now = datetime.now()
    moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if moment <= now:
        moment += timedelta(days=1)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def jobs_view(ui: Ui) -> Locator:
    return ui.content().locator(".jobs-view")


def job_rows(ui: Ui) -> Locator:
    return jobs_view(ui).locator("tbody tr[data-index]")


def open_jobs(ui: Ui) -> None:
    ui.open_resource("root", "Backup")
    expect(jobs_view(ui)).to_have_attribute("data-state", "loaded")


def select_job(ui: Ui, job_id: str) -> Locator:
    row = job_rows(ui).filter(has_text=job_id).first
    row.click()
    expect(row).to_have_attribute("aria-selected", "true")
    return row


def tab(dialog: Locator, name: str) -> None:
    dialog.get_by_role("tab", name=name, exact=True).click()


def value_of(field: Locator) -> object:
    return field.evaluate("e => e.value")


def task_row(ui: Ui, description: str) -> Locator:
    return ui.page.locator("section.tasklist tbody tr[data-index]", has_text=description).first


def follow_task(ui: Ui, description: str) -> str:
    """Open the newest task with this description from the task list; its log once it ended."""
    row = task_row(ui, description)
    expect(row).to_be_visible()
    row.dblclick()
    ui.wait_task()
    log = ui.task_viewer().locator("pre.tasklog").inner_text()
    ui.close_task_viewer()
    return log


def messages_to(node: Node100, address: str) -> list[email.message.EmailMessage]:
    found = []
    for envelope in node.mail.envelopes:
        if address in envelope.rcpt_tos:
            message = email.message_from_bytes(
                envelope.original_content or b"", policy=email.policy.default
            )
            assert isinstance(message, email.message.EmailMessage)
            found.append(message)
    return found


def smtp_port(node: Node100) -> str:
    return node.server.env["RESPALDO_SMTP_RELAY"].rsplit(":", 1)[1]


# -- backup jobs ------------------------------------------------------------------------------


def create_job(ui: Ui) -> None:
    """Add: the defaults Proxmox's editor has, a preset schedule, VM 101, keep-last 2."""
    jobs_view(ui).get_by_role("button", name="Add").click()
    dialog = ui.dialog("Create: Backup Job")
    expect(dialog.locator("wa-select[name=storage]")).to_have_js_property("value", "local")
    expect(dialog.locator("wa-select[name=compress]")).to_have_js_property("value", "zstd")
    expect(dialog.locator("wa-select[name=mode]")).to_have_js_property("value", "snapshot")
    expect(dialog.locator("wa-checkbox[name=enabled]")).to_have_js_property("checked", True)
    expect(dialog.locator("wa-select[name=selMode]")).to_have_js_property("value", "include")
    expect(dialog.locator(".guest-label")).to_have_text("Guests to Include")
    # the schedule: Proxmox's presets, picked from the list
    dialog.locator("wa-button.combo-toggle").click()
    dialog.get_by_role("option", name="Every day 21:00").click()
    expect(dialog.locator("wa-input[name=schedule]")).to_have_js_property("value", "21:00")
    dialog.locator("tr[data-vmid='101'] wa-checkbox").click()
    expect(dialog.locator(".guest-count")).to_have_text("Selected (1)")
    dialog.get_by_label("Job Comment").fill("beta every night")
    ui.screenshot("backup-job-editor")
    tab(dialog, "Retention")
    dialog.get_by_label("Keep Last").fill("2")
    tab(dialog, "Note Template")
    notes = dialog.locator("wa-textarea[name='notes-template']")
    expect(notes).to_have_js_property("value", "{{guestname}}")
    notes.locator("textarea").fill("{{guestname}} nightly")
    tab(dialog, "Advanced")
    dialog.get_by_label("Job ID").fill("nightly")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_have_count(0)


def created_job_in_the_grid(ui: Ui) -> None:
    expect(job_rows(ui)).to_have_count(1)
    row = job_rows(ui).first
    for text in ("Yes", "nightly", "21:00", next_daily(21, 0), "local", "beta every night"):
        expect(row).to_contain_text(text)
    expect(row).to_contain_text("keep-last=2")
    expect(row.locator("td").last).to_have_text("101")


def guests_without_a_job(ui: Ui, expected: list[str]) -> None:
    jobs_view(ui).get_by_role("button", name="Show: Guests Without Backup Job").click()
    dialog = ui.dialog("Guests Without Backup Job")
    rows = dialog.locator("tbody tr[data-index]")
    expect(rows).to_have_count(len(expected))
    for row, text in zip(rows.all(), expected, strict=True):
        expect(row).to_contain_text(text)
    dialog.locator("wa-button.cancel").click()
    expect(dialog).to_have_count(0)


def edit_job(ui: Ui) -> None:
    """Edit: the job's values are loaded; a typed schedule and a second guest are saved."""
    select_job(ui, "nightly").dblclick()
    dialog = ui.dialog("Edit: Backup Job")
    schedule = dialog.locator("wa-input[name=schedule]")
    expect(schedule).to_have_js_property("value", "21:00")
    expect(dialog.locator("tr[data-vmid='101'] wa-checkbox")).to_have_js_property("checked", True)
    expect(dialog.locator("tr[data-vmid='100'] wa-checkbox")).to_have_js_property("checked", False)
    expect(dialog.get_by_label("Job Comment")).to_have_value("beta every night")
    schedule.locator("input").fill("22:15")
    tab(dialog, "Retention")
    expect(dialog.get_by_label("Keep Last")).to_have_value("2")
    tab(dialog, "Note Template")
    expect(dialog.locator("wa-textarea[name='notes-template']")).to_have_js_property(
        "value", "{{guestname}} nightly"
    )
    tab(dialog, "Advanced")
    expect(dialog.locator("wa-input[name=id]")).to_have_js_property("value", "nightly")
    expect(dialog.locator("wa-input[name=id]")).to_have_js_property("readonly", True)
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_have_count(0)
    row = job_rows(ui).first
    expect(row).to_contain_text(next_daily(22, 15))
    expect(row).to_contain_text("22:15")


def a_bad_schedule_is_refused_in_the_apis_words(ui: Ui) -> None:
    select_job(ui, "nightly").dblclick()
    dialog = ui.dialog("Edit: Backup Job")
    schedule = dialog.locator("wa-input[name=schedule]")
    expect(schedule).to_have_js_property("value", "22:15")
    schedule.locator("input").fill("every full moon")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Parameter verification failed.")
    expect(dialog.get_by_role("alert")).to_contain_text("schedule: expected a weekday")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(job_rows(ui).first).to_contain_text("22:15")


def job_detail(ui: Ui) -> None:
    select_job(ui, "nightly")
    jobs_view(ui).get_by_role("button", name="Job Detail").click()
    dialog = ui.dialog("Backup Details")
    summary = dialog.locator(".job-summary")
    for text in ("-- All --", "22:15", next_daily(22, 15), "Include selected VMs", "Snapshot"):
        expect(summary).to_contain_text(text)
    expect(summary.locator(".retention-config")).to_contain_text("Keep Last2")
    disks = dialog.locator("section.included-disks")
    expect(disks).to_have_attribute("data-state", "loaded")
    expect(disks.locator("tr.guest")).to_have_text(["101 (beta)qemu"])
    disk = disks.locator("tr.disk")
    expect(disk).to_contain_text("virtio0 - local:101/vm-101-disk-0")
    expect(disk).to_contain_text("Yes")
    ui.page.wait_for_timeout(400)  # the opening animation
    ui.screenshot("backup-job-detail")
    dialog.locator("wa-button.cancel").click()
    expect(dialog).to_have_count(0)


def schedule_simulator(ui: Ui) -> None:
    select_job(ui, "nightly")
    jobs_view(ui).get_by_role("button", name="Schedule Simulator").click()
    dialog = ui.dialog("Job Schedule Simulator")
    expect(dialog.locator("wa-input[name=schedule]")).to_have_js_property("value", "22:15")
    expect(dialog.locator("tbody")).to_contain_text("No simulation done")
    dialog.get_by_role("button", name="Simulate").click()
    rows = dialog.locator("tbody tr[data-index]")
    expect(rows).to_have_count(10)
    first = datetime.strptime(next_daily(22, 15), "%Y-%m-%d %H:%M:%S")
    for index in (0, 1, 9):
        day = first + timedelta(days=index)
        expect(rows.nth(index)).to_have_text(day.strftime("%Y-%m-%d") + "22:15:00")
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_have_count(0)


def run_now(ui: Ui, node: Node100) -> None:
    """Run now: after a confirmation, the job's backup runs as a task of the task list."""
    select_job(ui, "nightly")
    jobs_view(ui).get_by_role("button", name="Run now").click()
    confirm = ui.dialog("Confirm")
    expect(confirm).to_contain_text("Start the selected backup job now?")
    confirm.get_by_role("button", name="Yes").click()
    log = follow_task(ui, "VM/CT 101 - Backup")
    assert "INFO: Starting Backup of VM 101 (qemu)" in log
    assert "prune older backups with retention: keep-last=2" in log
    ui.open_resource("qemu/101", "Backup")
    ui.loaded()
    expect(ui.backup_rows()).to_have_count(1)
    expect(ui.backup_rows().first).to_contain_text("beta nightly")


def remove_job(ui: Ui) -> None:
    open_jobs(ui)
    select_job(ui, "nightly")
    jobs_view(ui).get_by_role("button", name="Remove").click()
    ui.dialog("Remove backup job").get_by_role("button", name="Yes").click()
    expect(job_rows(ui)).to_have_count(0)
    expect(jobs_view(ui).locator("tbody")).to_contain_text("No backup jobs")


def test_a_backup_job_from_creation_to_removal(ui: Ui, node: Node100) -> None:
    ui.logged_in()
    open_jobs(ui)
    expect(job_rows(ui)).to_have_count(0)
    guests_without_a_job(ui, ["100", "101"])
    create_job(ui)
    created_job_in_the_grid(ui)
    guests_without_a_job(ui, ["100"])
    edit_job(ui)
    a_bad_schedule_is_refused_in_the_apis_words(ui)
    ui.screenshot("backup-jobs")
    job_detail(ui)
    schedule_simulator(ui)
    run_now(ui, node)
    remove_job(ui)


# -- notifications ----------------------------------------------------------------------------


def notifications(ui: Ui) -> Locator:
    return ui.content().locator(".notifications-view")


def targets(ui: Ui) -> Locator:
    return notifications(ui).locator(".targets-section")


def matchers(ui: Ui) -> Locator:
    return notifications(ui).locator(".matchers-section")


def open_notifications(ui: Ui) -> None:
    ui.open_resource("root", "Notifications")
    expect(targets(ui)).to_have_attribute("data-state", "loaded")
    expect(matchers(ui)).to_have_attribute("data-state", "loaded")


def add_smtp_target(ui: Ui, node: Node100) -> None:
    targets(ui).get_by_role("button", name="Add SMTP").click()
    dialog = ui.dialog("Create: SMTP")
    dialog.get_by_label("Endpoint Name").fill("mail-ops")
    dialog.get_by_label("Server").fill("127.0.0.1")
    ui.choose(dialog.locator("wa-select[name=mode]"), "insecure")
    expect(dialog.locator("wa-input[name=port]")).to_have_js_property("placeholder", "Default (25)")
    dialog.get_by_label("Port").fill(smtp_port(node))
    dialog.locator("wa-checkbox[name=authentication]").click()
    expect(dialog.locator("wa-input[name=username]")).to_have_js_property("disabled", True)
    dialog.get_by_label("From Address").fill("backup@uinode.test")
    dialog.get_by_role("button", name="Add").click()
    # no recipient: refused where it happens
    expect(dialog.get_by_role("alert")).to_contain_text("Either mailto or mailto-user must be set")
    dialog.get_by_label("Additional Recipient(s)").fill("ops@example.com")
    dialog.get_by_label("Comment").fill("the operators")
    dialog.get_by_role("button", name="Add").click()
    expect(dialog).to_have_count(0)
    row = targets(ui).locator("tbody tr[data-index]")
    expect(row).to_have_count(1)
    for text in ("Yes", "mail-ops", "smtp", "the operators", "Custom"):
        expect(row).to_contain_text(text)


def add_matcher(ui: Ui) -> None:
    matchers(ui).get_by_role("button", name="Add").click()
    dialog = ui.dialog("Create: Notification Matcher")
    dialog.get_by_label("Matcher Name").fill("nightly-failures")
    dialog.get_by_label("Comment").fill("failed nightly backups")
    tab(dialog, "Match Rules")
    dialog.locator("wa-checkbox.match-severity").click()
    for severity in ("info", "notice", "unknown"):
        dialog.locator(f"wa-checkbox[data-severity={severity}]").click()
    dialog.locator("wa-button.add-rule").click()
    dialog.get_by_label("Rule 1: value").fill("nightly")
    tab(dialog, "Targets to notify")
    dialog.locator("wa-checkbox[data-name='mail-ops']").click()
    dialog.locator("wa-button.submit").click()
    expect(dialog).to_have_count(0)
    row = matchers(ui).locator("tbody tr[data-index]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("nightly-failures")
    expect(row).to_contain_text("failed nightly backups")


def matcher_reopened(ui: Ui) -> None:
    row = matchers(ui).locator("tbody tr[data-index]").first
    row.dblclick()
    dialog = ui.dialog("Edit: Notification Matcher")
    tab(dialog, "Match Rules")
    expect(dialog.locator("wa-checkbox.match-severity")).to_have_js_property("checked", True)
    for severity, checked in (("error", True), ("warning", True), ("info", False)):
        box = dialog.locator(f"wa-checkbox[data-severity={severity}]")
        expect(box).to_have_js_property("checked", checked)
    expect(dialog.locator("wa-select.rule-field")).to_have_js_property("value", "job-id")
    expect(dialog.locator("wa-input.rule-value")).to_have_js_property("value", "nightly")
    tab(dialog, "Targets to notify")
    expect(dialog.locator("wa-checkbox[data-name='mail-ops']")).to_have_js_property("checked", True)
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)


def send_a_test(ui: Ui, node: Node100) -> None:
    targets(ui).locator("tbody tr[data-index]").first.click()
    targets(ui).get_by_role("button", name="Test").click()
    confirm = ui.dialog("Notification Target Test")
    expect(confirm).to_contain_text("Do you want to send a test notification to 'mail-ops'?")
    confirm.get_by_role("button", name="Yes").click()
    sent = ui.dialog("Notification Target Test").filter(has_text="Sent test")
    expect(sent).to_contain_text("Sent test notification to 'mail-ops'.")
    sent.locator("wa-button.cancel").click()
    received = messages_to(node, "ops@example.com")
    assert len(received) == 1, [e.rcpt_tos for e in node.mail.envelopes]
    assert received[0]["Subject"] == "Test notification"
    assert received[0]["From"].addresses[0].addr_spec == "backup@uinode.test"


def removals(ui: Ui) -> None:
    # a target a matcher uses cannot go: the API's words, where it happened
    targets(ui).locator("tbody tr[data-index]").first.click()
    targets(ui).get_by_role("button", name="Remove").click()
    ui.dialog("Remove target").get_by_role("button", name="Yes").click()
    expect(targets(ui).get_by_role("alert")).to_contain_text(
        "'mail-ops' is still used by matcher 'nightly-failures'"
    )
    matchers(ui).locator("tbody tr[data-index]").first.click()
    matchers(ui).get_by_role("button", name="Remove").click()
    ui.dialog("Remove matcher").get_by_role("button", name="Yes").click()
    expect(matchers(ui).locator("tbody tr[data-index]")).to_have_count(0)
    targets(ui).locator("tbody tr[data-index]").first.click()
    targets(ui).get_by_role("button", name="Remove").click()
    ui.dialog("Remove target").get_by_role("button", name="Yes").click()
    expect(targets(ui).locator("tbody tr[data-index]")).to_have_count(0)


def test_a_notification_target_with_a_matcher_and_a_test(ui: Ui, node: Node100) -> None:
    ui.logged_in()
    open_notifications(ui)
    expect(targets(ui).locator("tbody")).to_contain_text("No notification targets configured")
    add_smtp_target(ui, node)
    add_matcher(ui)
    matcher_reopened(ui)
    ui.screenshot("notifications")
    send_a_test(ui, node)
    removals(ui)
