"""The seed's walk through the web UI, in Chromium, as a Proxmox user does it: log in, back a
VM up in each mode (with a compression and an address to notify, the mail received by a local
SMTP server), find the backups on the VM and on the storage, show a configuration, restore
over the VM and into a new VM on another storage, remove a backup; the refusals (remove a
protected backup, restore over a running VM); log out. The screenshots of docs/ui.md are
taken here."""

from __future__ import annotations

import email
import email.policy

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import AUDITOR, TASK_TIMEOUT, Node100, Ui

pytestmark = [pytest.mark.browser, pytest.mark.qemu, pytest.mark.timeout(480)]

#: (mode, compression, its archive format, who is told). A VM without an OS never shuts down
#: by itself: the stop mode backup is taken with the VM stopped first (as Stop in the toolbar).
BACKUPS = [
    ("snapshot", "zstd", "vma.zst", "ops@example.com"),
    ("suspend", "lzo", "vma.lzo", "night@example.org"),
    ("stop", "gzip", "vma.gz", "boss@example.net"),
]


def backup_now(ui: Ui, mode: str, compress: str, mailto: str, screenshot: bool = False) -> None:
    ui.toolbar_button("Backup now").click()
    dialog = ui.dialog("Backup VM 100 (alpha)")
    expect(dialog.locator("wa-select[name=storage]")).to_have_js_property("value", "local")
    expect(dialog.locator("wa-select[name=compress]")).to_have_js_property("value", "zstd")
    expect(dialog.locator("wa-textarea[name='notes-template']")).to_have_js_property(
        "value", "{{guestname}}"
    )
    ui.choose(dialog.locator("wa-select[name=mode]"), mode)
    ui.choose(dialog.locator("wa-select[name=compress]"), compress)
    ui.choose(dialog.locator("wa-select[name='notification-mode']"), "legacy-sendmail")
    dialog.get_by_label("Send email to").fill(mailto)
    dialog.locator("wa-textarea[name='notes-template']").locator("textarea").fill(
        f"{{{{guestname}}}} {mode}"
    )
    if screenshot:
        ui.screenshot("backup-now-dialog")
    dialog.get_by_role("button", name="Backup").click()
    expect(dialog).to_have_count(0)
    expect(ui.task_viewer()).to_have_attribute("label", "Task viewer: VM/CT 100 - Backup")
    ui.wait_task()


def stop_vm(ui: Ui) -> None:
    ui.toolbar_button("Stop").click()
    confirm = ui.dialog("Confirm")
    expect(confirm).to_contain_text("Stop VM 100 (alpha)?")
    confirm.get_by_role("button", name="Yes").click()
    expect(ui.tree_item("qemu/100")).to_contain_text("stopped", timeout=TASK_TIMEOUT)


def start_vm(ui: Ui) -> None:
    ui.toolbar_button("Start").click()
    expect(ui.tree_item("qemu/100")).to_contain_text("running", timeout=TASK_TIMEOUT)


def mail_to(node: Node100, address: str) -> email.message.EmailMessage:
    for envelope in node.mail.envelopes:
        if address in envelope.rcpt_tos:
            message = email.message_from_bytes(
                envelope.original_content or b"", policy=email.policy.default
            )
            assert isinstance(message, email.message.EmailMessage)
            return message
    raise AssertionError(f"no mail to {address}: {[e.rcpt_tos for e in node.mail.envelopes]}")


def test_login_shows_the_node_and_user_and_logout_returns_to_the_login(ui: Ui) -> None:
    ui.open()
    ui.login(password="wrong")
    expect(ui.page.get_by_role("alert")).to_contain_text("authentication failure")
    ui.login()
    expect(ui.page.locator(".node-name")).to_have_text("uinode")
    expect(ui.page.locator(".user-name")).to_have_text("admin@pve")
    expect(ui.tree_item("qemu/100")).to_contain_text("100 (alpha)")
    expect(ui.tree_item("storage/uinode/local")).to_contain_text("local (uinode)")
    ui.page.reload()  # the ticket is kept in the cookie, as Proxmox's GUI keeps it
    expect(ui.page.locator(".user-name")).to_have_text("admin@pve")
    ui.page.get_by_role("button", name="Logout").click()
    expect(ui.page.get_by_role("button", name="Login")).to_be_visible()
    ui.page.reload()
    expect(ui.page.get_by_role("button", name="Login")).to_be_visible()


def backups_in_each_mode(ui: Ui, node: Node100) -> None:
    ui.logged_in()
    ui.open_resource("qemu/100", "Backup")
    ui.loaded()
    expect(ui.backup_rows()).to_have_count(0)

    for number, (mode, compress, fmt, mailto) in enumerate(BACKUPS, 1):
        if mode == "stop":
            stop_vm(ui)
        backup_now(ui, mode, compress, mailto, screenshot=number == 1)
        if number == 1:
            ui.screenshot("task-viewer")
        log = ui.task_viewer().locator("pre.tasklog").inner_text()
        assert "INFO: Starting Backup of VM 100 (qemu)" in log
        assert f"backup mode: {mode}" in log
        ui.close_task_viewer()
        expect(ui.backup_rows()).to_have_count(number)
        newest = ui.backup_rows().first
        expect(newest).to_contain_text(fmt)
        expect(newest).to_contain_text(f"alpha {mode}")
        message = mail_to(node, mailto)
        assert "backup successful" in str(message["Subject"])

    rows = ui.backup_rows()
    # (newest first)
    for index, (_, _, fmt, _) in enumerate(reversed(BACKUPS)):
        expect(rows.nth(index)).to_contain_text(fmt)
    ui.page.get_by_label("Search").fill("suspend")
    expect(rows).to_have_count(1)
    ui.page.get_by_label("Search").fill("")
    expect(rows).to_have_count(3)
    ui.screenshot("vm-backup-panel")


def listed_on_the_storage(ui: Ui, node: Node100) -> None:
    # the storage lists them too, with every VM's backups
    ui.open_resource("storage/uinode/local", "Backups")
    ui.loaded()
    expect(ui.backup_rows()).to_have_count(3)
    ui.screenshot("storage-backups-panel")


def show_configuration(ui: Ui, node: Node100) -> None:
    # Show Configuration: the config inside the archive
    ui.select_backup("vma.zst")
    ui.toolbar_button("Show Configuration").click()
    config = ui.dialog("Configuration").locator("pre.backup-config")
    expect(config).to_contain_text("name: alpha")
    expect(config).to_contain_text("memory: 64")
    ui.dialog("Configuration").locator("wa-button.cancel").click()


def restore_over_the_vm(ui: Ui, node: Node100) -> None:
    # restore over the VM (stopped): a confirmation says its disks are replaced
    ui.open_resource("qemu/100", "Backup")
    ui.loaded()
    ui.select_backup("vma.zst")
    ui.toolbar_button("Restore").click()
    dialog = ui.dialog("Restore VM 100 (alpha)")
    expect(dialog.locator("wa-input[name=vmid]")).to_have_js_property("value", "100")
    expect(dialog.locator("wa-input[name=vmid]")).to_have_js_property("readonly", True)
    ui.screenshot("restore-over-vm-dialog")
    dialog.get_by_role("button", name="Restore").click()
    confirm = ui.dialog("Confirm")
    expect(confirm).to_contain_text("permanently erase current VM data")
    confirm.get_by_role("button", name="Yes").click()
    expect(ui.task_viewer()).to_have_attribute("label", "Task viewer: VM 100 - Restore")
    ui.wait_task()
    ui.close_task_viewer()


def restore_into_a_new_vm(ui: Ui, node: Node100) -> None:
    # restore into a new VM on the other storage; the next free VMID is suggested
    ui.open_resource("storage/uinode/local", "Backups")
    ui.loaded()
    ui.select_backup("vma.lzo")
    ui.toolbar_button("Restore").click()
    dialog = ui.dialog("Restore: VM")
    expect(dialog.locator("wa-input[name=vmid]")).to_have_js_property("value", "102")
    expect(dialog.locator("wa-input[name=name]")).to_have_js_property("placeholder", "alpha")
    expect(dialog.locator("wa-input[name=memory]")).to_have_js_property("placeholder", "64")
    ui.choose(dialog.locator("wa-select[name=storage]"), "second")
    dialog.get_by_label("Name").fill("gamma")
    dialog.locator("wa-checkbox[name=unique]").click()
    ui.screenshot("restore-new-vm-dialog")
    dialog.get_by_role("button", name="Restore").click()
    ui.wait_task()
    ui.close_task_viewer()
    expect(ui.tree_item("qemu/102")).to_contain_text("102 (gamma)")
    ui.open_resource("qemu/102", "Summary")
    expect(ui.content().locator(".disks")).to_contain_text("second:")


def remove_a_backup(ui: Ui, node: Node100) -> None:
    # remove a backup, after a confirmation
    ui.open_resource("storage/uinode/local", "Backups")
    ui.loaded()
    ui.select_backup("vma.gz")
    ui.toolbar_button("Remove").click()
    ui.dialog("Remove backup").get_by_role("button", name="Yes").click()
    expect(ui.backup_rows()).to_have_count(2)
    expect(ui.backup_rows().filter(has_text="vma.gz")).to_have_count(0)


def test_backup_show_restore_remove(ui: Ui, node: Node100) -> None:
    backups_in_each_mode(ui, node)
    listed_on_the_storage(ui, node)
    show_configuration(ui, node)
    restore_over_the_vm(ui, node)
    restore_into_a_new_vm(ui, node)
    remove_a_backup(ui, node)


def test_refusals_protected_backup_and_running_vm(ui: Ui, node: Node100) -> None:
    ui.logged_in()
    ui.open_resource("qemu/100", "Backup")
    ui.loaded()
    if ui.backup_rows().count() == 0:
        backup_now(ui, "snapshot", "zstd", "ops@example.com")
        ui.close_task_viewer()
    row = ui.select_backup("vzdump-qemu-100")

    # a protected backup cannot be removed: Remove is disabled
    ui.toolbar_button("Change Protection").click()
    expect(row.locator(".icon.shield")).to_have_count(1)
    expect(ui.toolbar_button("Remove")).to_be_disabled()
    ui.toolbar_button("Change Protection").click()
    expect(row.locator(".icon.shield")).to_have_count(0)
    expect(ui.toolbar_button("Remove")).to_be_enabled()

    # restore over the running VM: refused, in Proxmox's words, in the dialog
    if "stopped" in ui.tree_item("qemu/100").inner_text():
        start_vm(ui)
    ui.toolbar_button("Restore").click()
    dialog = ui.dialog("Restore VM 100 (alpha)")
    dialog.get_by_role("button", name="Restore").click()
    ui.dialog("Confirm").get_by_role("button", name="Yes").click()
    expect(dialog.get_by_role("alert")).to_contain_text("unable to restore VM 100 - vm is running")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(ui.tree_item("qemu/100")).to_contain_text("running")
    # Suspend pauses the guest: Resume is offered, and brings it back
    ui.toolbar_button("Suspend").click()
    ui.dialog("Confirm").get_by_role("button", name="Yes").click()
    expect(ui.toolbar_button("Resume")).to_be_enabled(timeout=TASK_TIMEOUT)
    expect(ui.toolbar_button("Suspend")).to_be_disabled()
    ui.toolbar_button("Resume").click()
    expect(ui.toolbar_button("Suspend")).to_be_enabled(timeout=TASK_TIMEOUT)


def test_an_auditor_may_change_nothing_and_sees_no_backups(ui: Ui, node: Node100) -> None:
    # Proxmox shows a backup only to those who may back its guest up (VM.Backup and
    # Datastore.AllocateSpace): an auditor sees the VM and an empty backup list.
    node.server.cli("vzdump", "100", "--storage", "local", "--compress", "zstd", timeout=120)
    ui.open()
    ui.login(user=AUDITOR[0], password=AUDITOR[1])
    expect(ui.page.locator(".user-name")).to_have_text("auditor@pve")
    ui.open_resource("qemu/100", "Backup")
    ui.loaded()
    for name in ("Start", "Shutdown", "Stop", "Suspend", "Resume", "Backup now"):
        expect(ui.toolbar_button(name)).to_be_disabled()
    expect(ui.backup_rows()).to_have_count(0)
    expect(ui.backup_list().locator("tr.empty")).to_have_text("No backups")
    for name in ("Restore", "Show Configuration", "Edit Notes", "Change Protection", "Remove"):
        expect(ui.toolbar_button(name)).to_be_disabled()


def test_the_task_viewer_follows_and_stops_a_running_task(ui: Ui, node: Node100) -> None:
    ui.logged_in()
    ui.open_resource("qemu/100", "Summary")
    if "stopped" in ui.tree_item("qemu/100").inner_text():
        start_vm(ui)
    # a guest without an OS never answers the ACPI power button: the shutdown task waits
    ui.toolbar_button("Shutdown").click()
    ui.dialog("Confirm").get_by_role("button", name="Yes").click()
    running = ui.page.locator("section.tasklist tbody tr[data-index]", has_text="VM 100 - Shutdown")
    expect(running.first).to_contain_text("running")
    running.first.dblclick()
    viewer = ui.task_viewer()
    expect(viewer.locator(".task-state")).to_have_text("Status: running")
    viewer.get_by_role("tab", name="Status").click()
    expect(viewer.locator("table.kv")).to_contain_text("qmshutdown")
    viewer.locator("wa-button.stop").click()
    expect(viewer.locator("table.kv")).to_contain_text("stopped")
    viewer.get_by_role("tab", name="Output").click()
    state = ui.wait_task(ok=False)
    assert "OK" not in state
    ui.close_task_viewer()
    expect(ui.tree_item("qemu/100")).to_contain_text("running")
