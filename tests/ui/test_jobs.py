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

from tests.ui.conftest import AUDITOR, Node100, Ui
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


# -- the keyboard -----------------------------------------------------------------------------


def escape_closes(ui: Ui, dialog: Locator) -> None:
    expect(dialog.locator("form.dialog-form")).to_be_visible()
    ui.page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)


def reopened(ui: Ui, opener: Locator, label: str) -> Locator:
    """Open a dialog with Enter on its button, cancel it with Escape, open it again."""
    press_on(ui, opener)
    escape_closes(ui, ui.dialog(label))
    press_on(ui, opener)
    dialog = ui.dialog(label)
    expect(dialog.locator("form.dialog-form")).to_be_visible()
    return dialog


def submit_by_keyboard(ui: Ui, dialog: Locator) -> None:
    tab_to(ui, "wa-dialog[open] wa-button.submit")
    ui.page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)


def close_by_keyboard(ui: Ui, dialog: Locator) -> None:
    tab_to(ui, "wa-dialog[open] wa-button.cancel")
    ui.page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)


def create_job_by_keyboard(ui: Ui) -> None:
    page = ui.page
    dialog = reopened(ui, jobs_view(ui).locator("wa-button.add"), "Create: Backup Job")
    expect(dialog.locator("wa-select[name=storage]")).to_have_js_property("value", "local")
    # the schedule's presets: ArrowDown opens them, Escape closes only the list
    tab_to(ui, "wa-input[name=schedule]")
    page.keyboard.press("ArrowDown")
    expect(dialog.get_by_role("listbox")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog.get_by_role("listbox")).to_be_hidden()
    expect(dialog).to_have_count(1)
    assert focused(ui, "wa-input[name=schedule]")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(dialog.locator("wa-input[name=schedule]")).to_have_js_property("value", "21:00")
    tab_to(ui, "tr[data-vmid='100'] wa-checkbox")
    page.keyboard.press("Space")
    expect(dialog.locator(".guest-count")).to_have_text("Selected (1)")
    # the tabs: the arrow keys move between them, Tab goes into the panel
    tab_to(ui, "wa-dialog[open] wa-tab[panel=general]")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    tab_to(ui, "wa-input[name='keep-last']")
    page.keyboard.type("3")
    submit_by_keyboard(ui, dialog)
    expect(job_rows(ui)).to_have_count(1)
    expect(job_rows(ui).first).to_contain_text("keep-last=3")
    expect(job_rows(ui).first).to_contain_text(next_daily(21, 0))


def job_dialogs_by_keyboard(ui: Ui) -> None:
    page = ui.page
    # the grid: the arrows select, Enter edits
    jobs_view(ui).locator("table.grid").focus()
    page.keyboard.press("ArrowDown")
    expect(job_rows(ui).first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    escape_closes(ui, ui.dialog("Edit: Backup Job"))
    for button, label, finish in (
        ("job-detail", "Backup Details", close_by_keyboard),
        ("not-backed-up", "Guests Without Backup Job", close_by_keyboard),
    ):
        finish(ui, reopened(ui, jobs_view(ui).locator(f"wa-button.{button}"), label))
    # the simulator: Simulate by keyboard, Done
    simulator = jobs_view(ui).locator("wa-button.schedule-simulator")
    dialog = reopened(ui, simulator, "Job Schedule Simulator")
    tab_to(ui, "wa-button.simulate")
    page.keyboard.press("Enter")
    expect(dialog.locator("tbody tr[data-index]")).to_have_count(10)
    close_by_keyboard(ui, dialog)


def run_and_remove_by_keyboard(ui: Ui) -> None:
    page = ui.page
    submit_by_keyboard(ui, reopened(ui, jobs_view(ui).locator("wa-button.run-now"), "Confirm"))
    # the task list: its newest task is the job's backup of VM 100; Enter opens it
    row = task_row(ui, "VM/CT 100 - Backup")
    expect(row).to_be_visible()
    page.locator("section.tasklist table.grid").focus()
    page.keyboard.press("Home")
    expect(page.locator("section.tasklist tbody tr[aria-selected=true]")).to_contain_text(
        "VM/CT 100 - Backup"
    )
    page.keyboard.press("Enter")
    ui.wait_task()
    page.keyboard.press("Escape")
    expect(ui.task_viewer()).to_have_count(0)
    jobs_view(ui).locator("table.grid").focus()
    page.keyboard.press("Home")
    dialog = reopened(ui, jobs_view(ui).locator("wa-button.remove"), "Remove backup job")
    expect(job_rows(ui)).to_have_count(1)
    submit_by_keyboard(ui, dialog)
    expect(job_rows(ui)).to_have_count(0)


def smtp_target_by_keyboard(ui: Ui, node: Node100) -> None:
    page = ui.page
    dialog = reopened(ui, targets(ui).locator("wa-button.add-smtp"), "Create: SMTP")
    for selector, text in (
        ("wa-input[name=name]", "kbd-mail"),
        ("wa-input[name=server]", "127.0.0.1"),
        ("wa-input[name=port]", smtp_port(node)),
        ("wa-input[name='from-address']", "backup@uinode.test"),
        ("wa-input[name=mailto]", "kbd@example.com"),
    ):
        tab_to(ui, selector)
        page.keyboard.type(text)
    tab_to(ui, "wa-select[name=mode]")
    page.keyboard.press("Enter")
    page.keyboard.press("Home")
    page.keyboard.press("Enter")
    expect(dialog.locator("wa-select[name=mode]")).to_have_js_property("value", "insecure")
    tab_to(ui, "wa-checkbox[name=authentication]")
    page.keyboard.press("Space")
    submit_by_keyboard(ui, dialog)
    rows = targets(ui).locator("tbody tr[data-index]")
    expect(rows.filter(has_text="kbd-mail")).to_have_count(1)
    # Modify (Enter in the grid) cancelled; Test confirmed and its message closed
    targets(ui).locator("table.grid").focus()
    page.keyboard.press("Home")
    page.keyboard.press("Enter")
    escape_closes(ui, ui.dialog("Edit: SMTP"))
    reopened(ui, targets(ui).locator("wa-button.test"), "Notification Target Test")
    tab_to(ui, "wa-dialog[open] wa-button.submit")
    page.keyboard.press("Enter")
    # the answer comes in a message with the question's title (as in Proxmox's GUI)
    message = ui.dialog("Notification Target Test").filter(has_text="Sent test")
    expect(message).to_contain_text("Sent test notification to 'kbd-mail'.")
    expect(ui.page.locator("wa-dialog[open]")).to_have_count(1)
    close_by_keyboard(ui, message)
    assert len(messages_to(node, "kbd@example.com")) == 1


def webhook_and_matcher_by_keyboard(ui: Ui) -> None:
    page = ui.page
    dialog = reopened(ui, targets(ui).locator("wa-button.add-webhook"), "Create: Webhook")
    tab_to(ui, "wa-input[name=name]")
    page.keyboard.type("kbd-hook")
    tab_to(ui, "wa-input[name=url]")
    page.keyboard.type("https://hooks.example.test/respaldo")
    tab_to(ui, "wa-button.kv-add")
    page.keyboard.press("Enter")
    tab_to(ui, "wa-input.kv-name")
    page.keyboard.type("X-Source")
    page.keyboard.press("Tab")
    page.keyboard.type("respaldo")
    submit_by_keyboard(ui, dialog)
    expect(targets(ui).locator("tbody tr[data-index]", has_text="webhook")).to_have_count(1)

    dialog = reopened(ui, matchers(ui).locator("wa-button.add"), "Create: Notification Matcher")
    tab_to(ui, "wa-input[name=name]")
    page.keyboard.type("kbd-matcher")
    tab_to(ui, "wa-dialog[open] wa-tab[panel=general]")
    page.keyboard.press("End")
    tab_to(ui, "wa-checkbox[data-name='kbd-mail']")
    page.keyboard.press("Space")
    submit_by_keyboard(ui, dialog)
    expect(matchers(ui).locator("tbody tr[data-index]", has_text="kbd-matcher")).to_have_count(1)


def test_the_new_dialogs_with_the_keyboard(ui: Ui, node: Node100) -> None:
    ui.logged_in()
    open_jobs(ui)
    create_job_by_keyboard(ui)
    job_dialogs_by_keyboard(ui)
    run_and_remove_by_keyboard(ui)
    open_notifications(ui)
    smtp_target_by_keyboard(ui, node)
    webhook_and_matcher_by_keyboard(ui)


# -- axe-core ---------------------------------------------------------------------------------


def api_post(ui: Ui, path: str, params: dict[str, str]) -> None:
    """POST through the page's own API client (the logged-in session)."""
    ui.page.evaluate(
        "async ([path, params]) => (await import('/static/js/api.js')).api.post(path, params)",
        [path, params],
    )


def axe_dialog(ui: Ui, opener: Locator, label: str, tabs: tuple[str, ...] = ()) -> None:
    """Open a dialog, run axe on it (and on each of its tabs), close it with Escape."""
    opener.click()
    dialog = ui.dialog(label)
    expect(dialog.locator("form.dialog-form")).to_be_visible()
    ui.page.wait_for_timeout(400)  # the opening animation
    ui.axe(f"dialog {label}", within="wa-dialog[open]")
    for name in tabs:
        tab(dialog, name)
        ui.axe(f"dialog {label}, tab {name}", within="wa-dialog[open]")
    ui.page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)


def test_no_serious_accessibility_violation_on_the_new_views(ui: Ui, node: Node100) -> None:
    ui.logged_in()
    # a job, two targets and a matcher to look at, made through the API as a script would
    for path, params in (
        ("/cluster/backup", {"id": "axe-job", "schedule": "sun 01:00", "vmid": "100,101"}),
        (
            "/cluster/notifications/endpoints/smtp",
            {
                "name": "axe-mail",
                "server": "127.0.0.1",
                "mode": "insecure",
                "from-address": "a@uinode.test",
                "mailto": "b@example.com",
            },
        ),
        (
            "/cluster/notifications/endpoints/webhook",
            {
                "name": "axe-hook",
                "method": "post",
                "url": "https://hooks.example.test/x",
                "header": "name=X-Source,value=cmVzcGFsZG8=",
            },
        ),
        ("/cluster/notifications/matchers", {"name": "axe-matcher", "target": "axe-mail"}),
    ):
        api_post(ui, path, params)
    open_jobs(ui)
    ui.axe("backup jobs")
    view = jobs_view(ui)
    axe_dialog(
        ui,
        view.locator("wa-button.add"),
        "Create: Backup Job",
        ("Notifications", "Retention", "Note Template", "Advanced"),
    )
    dialog = ui.dialog("Create: Backup Job")
    view.locator("wa-button.add").click()
    dialog.locator("wa-button.combo-toggle").click()
    expect(dialog.get_by_role("listbox")).to_be_visible()
    ui.axe("schedule presets", within="wa-dialog[open]")
    ui.page.keyboard.press("Escape")
    ui.page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    select_job(ui, "axe-job")
    axe_dialog(ui, view.locator("wa-button.job-detail"), "Backup Details")
    axe_dialog(ui, view.locator("wa-button.schedule-simulator"), "Job Schedule Simulator")
    view.locator("wa-button.run-now").click()
    ui.dialog("Confirm").get_by_role("button", name="No").click()
    open_notifications(ui)
    ui.axe("notifications")
    axe_dialog(ui, targets(ui).locator("wa-button.add-smtp"), "Create: SMTP")
    axe_dialog(ui, targets(ui).locator("wa-button.add-webhook"), "Create: Webhook")
    targets(ui).locator("tbody tr[data-index]", has_text="axe-hook").click()
    axe_dialog(ui, targets(ui).locator("wa-button.modify"), "Edit: Webhook")
    matchers(ui).locator("tbody tr[data-index]").first.click()
    axe_dialog(
        ui,
        matchers(ui).locator("wa-button.modify"),
        "Edit: Notification Matcher",
        ("Match Rules", "Targets to notify"),
    )


# -- the editors' rules, run in the page as it loads them ------------------------------------


def run(ui: Ui, module: str, code: str, arg: object = None) -> object:
    """Evaluate `code` (an expression of `m`, the module, and `arg`) in the page."""
    return ui.page.evaluate(
        f"async (arg) => {{ const m = await import('/static/js/{module}'); return {code}; }}", arg
    )


JOB = {
    "id": "nightly",
    "type": "vzdump",
    "enabled": 1,
    "schedule": "21:00",
    "next-run": 1796072400,
    "repeat-missed": 1,
    "comment": "a comment",
    "node": "uinode",
    "storage": "local",
    "vmid": "100,101",
    "compress": "zstd",
    "mode": "snapshot",
    "prune-backups": {"keep-last": 3, "keep-daily": 7},
    "fleecing": {"enabled": 1, "storage": "local"},
    "performance": {"max-workers": 8},
    "notes-template": "{{guestname}}\\nline two",
    "notification-mode": "notification-system",
}


def test_run_now_sends_the_jobs_options_as_proxmoxs_gui_does(ui: Ui) -> None:
    ui.open()
    assert run(ui, "jobs/model.js", "m.runNowParams(arg)", JOB) == {
        "all": 0,
        "storage": "local",
        "vmid": "100,101",
        "compress": "zstd",
        "mode": "snapshot",
        "prune-backups": "keep-daily=7,keep-last=3",
        "fleecing": "enabled=1,storage=local",
        "performance": "max-workers=8",
        "notes-template": "{{guestname}}\\nline two",
        "notification-mode": "notification-system",
    }
    texts = run(
        ui,
        "jobs/model.js",
        "[m.selectionText({all: 1}), m.selectionText({all: 1, exclude: '101'}),"
        " m.selectionText({pool: 'web'}), m.selectionText({vmid: '100'}),"
        " m.retentionText({}), m.nextRunText(undefined), m.nextRunText(1000, 2000)]",
    )
    assert texts == [
        "-- All --",
        "All except 101",
        "Pool 'web'",
        "100",
        "Fallback from storage config",
        "-",
        "pending",
    ]


def test_the_job_editor_sends_what_changed_and_deletes_what_was_emptied(ui: Ui) -> None:
    ui.open()
    values = run(ui, "jobs/model.js", "m.jobValues(arg)", JOB)
    assert isinstance(values, dict)
    assert values["notes"] == "{{guestname}}\nline two"
    assert values["keep"] == {"keep-last": "3", "keep-daily": "7"}
    assert values["vmids"] == [100, 101]
    unchanged = run(ui, "jobs/model.js", "m.jobParams(arg, false)", values)
    assert unchanged == {
        "node": "uinode",
        "storage": "local",
        "schedule": "21:00",
        "vmid": "100,101",
        "compress": "zstd",
        "mode": "snapshot",
        "enabled": 1,
        "comment": "a comment",
        "notification-mode": "notification-system",
        "prune-backups": "keep-daily=7,keep-last=3",
        "notes-template": "{{guestname}}\\nline two",
        "performance": "max-workers=8",
        "fleecing": "enabled=1,storage=local",
        "repeat-missed": "1",
        "delete": "bwlimit,zstd",
    }
    emptied = {
        **values,
        "node": "",
        "comment": "",
        "selMode": "all",
        "keep": {},
        "notes": "",
        "fleecing": False,
        "repeatMissed": False,
    }
    params = run(ui, "jobs/model.js", "m.jobParams(arg, false)", emptied)
    assert isinstance(params, dict)
    assert params["all"] == 1 and "vmid" not in params
    assert params["fleecing"] == "enabled=0"
    assert params["delete"].split(",") == [
        "node",
        "exclude",
        "comment",
        "prune-backups",
        "notes-template",
        "bwlimit",
        "zstd",
        "repeat-missed",
    ]
    new = run(
        ui,
        "jobs/model.js",
        "m.jobParams({...m.jobValues(null), schedule: 'daily', vmids: [100],"
        " storage: 'local'}, true)",
    )
    assert isinstance(new, dict)
    assert new["id"].startswith("backup-") and len(new["id"]) == len("backup-") + 13
    assert new["notes-template"] == "{{guestname}}" and new["compress"] == "zstd"
    assert new["repeat-missed"] == 0 and "delete" not in new
    refused = run(
        ui,
        "jobs/model.js",
        "(() => { try { m.jobParams({...m.jobValues(null), selMode: 'exclude'}, true); }"
        " catch (e) { return e.message; } })()",
    )
    assert refused == "Guests to Exclude: select at least one guest"


def test_targets_and_matchers_as_the_api_takes_them(ui: Ui) -> None:
    ui.open()
    model = "notifications/model.js"
    matcher = {
        "name": "m",
        "mode": "any",
        "invert-match": 1,
        "match-severity": "error,warning",
        "match-field": ["exact:job-id=nightly", "regex:hostname=^pve"],
        "target": ["mail"],
    }
    values = run(ui, model, "m.matcherValues(arg)", matcher)
    assert isinstance(values, dict)
    assert values["mode"] == "notany"
    assert values["fields"] == [
        {"type": "exact", "field": "job-id", "value": "nightly"},
        {"type": "regex", "field": "hostname", "value": "^pve"},
    ]
    assert run(ui, model, "m.matcherParams(arg, false)", values) == {
        "mode": "any",
        "invert-match": "1",
        "match-severity": "error,warning",
        "match-field": "exact:job-id=nightly,regex:hostname=^pve",
        "target": "mail",
        "delete": "disable,comment",
    }
    hook = {
        "name": "h",
        "method": "post",
        "url": "https://x.test/",
        "header": ["name=X-A,value=w6k="],
        "secret": [{"name": "token"}],
    }
    values = run(ui, model, "m.webhookValues(arg)", hook)
    assert isinstance(values, dict)
    assert values["headers"] == [{"name": "X-A", "value": "é"}]
    params = run(ui, model, "m.webhookParams(arg, false, ['token'])", values)
    assert isinstance(params, dict)
    assert params["header"] == "name=X-A,value=w6k=" and "secret" not in params
    retyped = run(
        ui,
        model,
        "(() => { try { return m.webhookParams({...arg, secrets: [...arg.secrets, "
        "{name: 'other', value: 'v'}]}, false, ['token']); } catch (e) { return e.message; } })()",
        values,
    )
    assert isinstance(retyped, str) and retyped.startswith("Secret 'token': type its value")
    smtp = run(ui, model, "m.smtpValues(arg)", {"name": "s", "server": "x", "mailto": ["a@b.c"]})
    assert isinstance(smtp, dict)
    assert smtp["authentication"] is False and smtp["mailto"] == "a@b.c"
    params = run(ui, model, "m.smtpParams(arg, false)", smtp)
    assert isinstance(params, dict)
    assert params["delete"].split(",") == [
        "disable",
        "port",
        "username",
        "password",
        "mailto-user",
        "comment",
        "author",
    ]


def test_an_auditor_sees_jobs_and_notifications_but_may_change_nothing(
    ui: Ui, node: Node100
) -> None:
    node.server.cli("job", "create", "audited", "--schedule", "monthly", "--all", "1")
    ui.open()
    ui.login(user=AUDITOR[0], password=AUDITOR[1])
    expect(ui.page.locator(".user-name")).to_have_text("auditor@pve")
    open_jobs(ui)
    row = select_job(ui, "audited")
    expect(row).to_contain_text("-- All --")
    for name in ("Add", "Remove", "Edit", "Run now"):
        expect(jobs_view(ui).get_by_role("button", name=name, exact=True)).to_be_disabled()
    jobs_view(ui).get_by_role("button", name="Job Detail").click()
    detail = ui.dialog("Backup Details")
    expect(detail.locator("section.included-disks")).to_have_attribute("data-state", "loaded")
    expect(detail.locator("tr.guest")).to_have_count(2)
    detail.locator("wa-button.cancel").click()
    open_notifications(ui)
    for name in ("Add SMTP", "Add Webhook"):
        expect(targets(ui).get_by_role("button", name=name)).to_be_disabled()
    expect(matchers(ui).get_by_role("button", name="Add")).to_be_disabled()
