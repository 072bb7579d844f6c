"""Accessibility: every dialog completed and cancelled with the keyboard alone, and axe-core
(vendored from npm) finding no serious or critical violation on each view and dialog."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, expect

from tests.ui.conftest import Node100, Ui

pytestmark = [pytest.mark.browser, pytest.mark.qemu, pytest.mark.timeout(420)]

MAX_TABS = 40


def focused(ui: Ui, selector: str) -> bool:
    """Whether the focus is on (or inside) an element matching selector."""
    return bool(
        ui.page.evaluate(
            "sel => { let e = document.activeElement;"
            " while (e && e.shadowRoot && e.shadowRoot.activeElement) {"
            "   if (e.matches(sel)) return true; e = e.shadowRoot.activeElement; }"
            " return !!e && !!e.closest && !!e.closest(sel); }",
            selector,
        )
    )


def tab_to(ui: Ui, selector: str) -> None:
    """Press Tab until the focus is on selector, as a keyboard user moves through a form."""
    for _ in range(MAX_TABS):
        if focused(ui, selector):
            return
        ui.page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def press_on(ui: Ui, target: Locator, key: str = "Enter") -> None:
    target.focus()
    ui.page.keyboard.press(key)


def submit_task_by_keyboard(ui: Ui) -> None:
    """Tab to the dialog's submit button, Enter; the task viewer follows; Escape closes it."""
    tab_to(ui, "wa-button.submit")
    ui.page.keyboard.press("Enter")
    ui.wait_task()
    ui.page.keyboard.press("Escape")
    expect(ui.task_viewer()).to_have_count(0)


def backups(node: Node100) -> None:
    """Two backups of VM 101 made with the CLI, as another user might have made them."""
    for _ in range(2):
        node.server.cli("vzdump", "101", "--compress", "zstd", "--storage", "local", timeout=120)


def login_by_keyboard(ui: Ui, node: Node100) -> None:
    page = ui.page
    # login: the user name has the focus; Tab to the password, to the realm (the arrow
    # keys choose it); Enter logs in
    backups(node)
    ui.open()
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type(node.server.password)
    tab_to(ui, "wa-select[name=realm]")
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("wa-select[name=realm]")).to_have_js_property("value", "pve")
    tab_to(ui, "wa-button.login-button")
    page.keyboard.press("Enter")
    expect(page.locator(".user-name")).to_have_text("admin@pve")

    ui.open_resource("qemu/101", "Backup")
    ui.loaded()
    expect(ui.backup_rows()).to_have_count(2)


def backup_now_by_keyboard(ui: Ui, node: Node100) -> None:
    page = ui.page
    # Backup now: cancelled with Escape, then completed with the mode chosen by keys
    press_on(ui, ui.toolbar_button("Backup now"))
    dialog = ui.dialog("Backup VM 101 (beta)")
    expect(dialog.locator("form.dialog-form")).to_be_visible()
    expect(dialog.locator("wa-select[name=storage]")).to_have_js_property("value", "local")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    press_on(ui, ui.toolbar_button("Backup now"))
    expect(dialog.locator("wa-select[name=storage]")).to_have_js_property("value", "local")
    tab_to(ui, "wa-select[name=mode]")
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(dialog.locator("wa-select[name=mode]")).to_have_js_property("value", "suspend")
    submit_task_by_keyboard(ui)
    expect(ui.backup_rows()).to_have_count(3)


def grid_and_configuration_by_keyboard(ui: Ui, node: Node100) -> None:
    page = ui.page
    # the grid: one tab stop, arrows select, Enter shows the configuration
    grid = ui.backup_list().locator("table.grid")
    grid.focus()
    page.keyboard.press("ArrowDown")
    expect(ui.backup_rows().first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("End")
    expect(ui.backup_rows().last).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    config = ui.dialog("Configuration")
    expect(config.locator("pre")).to_contain_text("name: beta")
    page.keyboard.press("Escape")
    expect(config).to_have_count(0)
    press_on(ui, ui.toolbar_button("Show Configuration"))
    expect(config.locator("pre")).to_contain_text("name: beta")
    tab_to(ui, "wa-button.cancel")
    page.keyboard.press("Enter")
    expect(config).to_have_count(0)


def notes_by_keyboard(ui: Ui, node: Node100) -> None:
    page = ui.page
    # Edit Notes: cancelled, then typed and saved
    press_on(ui, ui.toolbar_button("Edit Notes"))
    notes = ui.dialog("Notes")
    expect(notes.locator("form.dialog-form")).to_be_visible()
    page.keyboard.press("Escape")
    expect(notes).to_have_count(0)
    press_on(ui, ui.toolbar_button("Edit Notes"))
    tab_to(ui, "wa-textarea[name=notes]")
    page.keyboard.press("Control+A")
    page.keyboard.type("typed by keyboard")
    tab_to(ui, "wa-button.submit")
    page.keyboard.press("Enter")
    expect(notes).to_have_count(0)
    expect(ui.backup_rows().filter(has_text="typed by keyboard")).to_have_count(1)


def remove_by_keyboard(ui: Ui, node: Node100) -> None:
    page = ui.page
    # Remove: the confirmation cancelled with Escape, then confirmed with Enter
    press_on(ui, ui.toolbar_button("Remove"))
    confirm = ui.dialog("Remove backup")
    expect(confirm.locator("form.dialog-form")).to_be_visible()
    page.keyboard.press("Escape")
    expect(confirm).to_have_count(0)
    expect(ui.backup_rows()).to_have_count(3)
    press_on(ui, ui.toolbar_button("Remove"))
    expect(confirm.locator("form.dialog-form")).to_be_visible()
    tab_to(ui, "wa-button.submit")
    page.keyboard.press("Enter")
    expect(ui.backup_rows()).to_have_count(2)


def restore_over_cancelled_by_keyboard(ui: Ui, node: Node100) -> None:
    page = ui.page
    # Restore over the VM: cancelled with Escape (its Restore is shown by the flow test)
    grid = ui.backup_list().locator("table.grid")
    grid.focus()
    page.keyboard.press("Home")
    press_on(ui, ui.toolbar_button("Restore"))
    restore = ui.dialog("Restore VM 101 (beta)")
    expect(restore.locator("form.dialog-form")).to_be_visible()
    page.keyboard.press("Escape")
    expect(restore).to_have_count(0)


def restore_and_prune_by_keyboard(ui: Ui, node: Node100) -> None:
    page = ui.page
    # the storage's list: Restore into a new VM, completed; Prune group, cancelled then done
    ui.open_resource("storage/uinode/local", "Backups")
    ui.loaded()
    grid = ui.backup_list().locator("table.grid")
    grid.focus()
    page.keyboard.press("Home")
    press_on(ui, ui.toolbar_button("Restore"))
    restore = ui.dialog("Restore: VM")
    expect(restore.locator("wa-input[name=vmid]")).not_to_have_js_property("value", "")
    page.keyboard.press("Escape")
    expect(restore).to_have_count(0)
    press_on(ui, ui.toolbar_button("Restore"))
    vmid = restore.locator("wa-input[name=vmid]")
    expect(vmid).not_to_have_js_property("value", "")
    tab_to(ui, "wa-input[name=name]")
    page.keyboard.type("delta")
    submit_task_by_keyboard(ui)
    expect(ui.page.locator("wa-tree-item[data-id^='qemu/']", has_text="(delta)")).to_have_count(1)

    grid.focus()
    page.keyboard.press("Home")
    press_on(ui, ui.content().locator("wa-button.prune-group"))
    prune = ui.dialog("Prune Backups for 'qemu/101' on Storage 'local'")
    expect(prune.locator("form.dialog-form")).to_be_visible()
    page.keyboard.press("Escape")
    expect(prune).to_have_count(0)
    press_on(ui, ui.content().locator("wa-button.prune-group"))
    preview = prune.locator("tbody tr[data-index]")
    expect(preview).to_have_count(2)
    tab_to(ui, "wa-input[name='keep-last']")
    page.keyboard.type("1")
    expect(preview.first).to_contain_text("true (keep-last: 1)")
    expect(preview.last).to_contain_text("false")
    submit_task_by_keyboard(ui)
    ui.open_resource("storage/uinode/local", "Backups")
    ui.loaded()
    expect(ui.backup_rows().filter(has_text="vzdump-qemu-101")).to_have_count(1)


def task_list_by_keyboard(ui: Ui, node: Node100) -> None:
    page = ui.page
    # the task list: a task opens in the viewer with Enter, Escape closes it
    tasks = page.locator("section.tasklist table.grid")
    tasks.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(ui.task_viewer().locator("form.dialog-form")).to_be_visible()
    page.keyboard.press("Escape")
    expect(ui.task_viewer()).to_have_count(0)


def test_dialogs_with_the_keyboard(ui: Ui, node: Node100) -> None:
    login_by_keyboard(ui, node)
    backup_now_by_keyboard(ui, node)
    grid_and_configuration_by_keyboard(ui, node)
    notes_by_keyboard(ui, node)
    remove_by_keyboard(ui, node)
    restore_over_cancelled_by_keyboard(ui, node)
    restore_and_prune_by_keyboard(ui, node)
    task_list_by_keyboard(ui, node)


def test_no_serious_accessibility_violation_on_any_view(ui: Ui, node: Node100) -> None:
    ui.open()
    ui.axe("login")
    ui.login()
    expect(ui.page.locator(".user-name")).to_have_text("admin@pve")
    ui.axe("datacenter")
    ui.open_resource("node/uinode")
    expect(ui.content().locator("table.kv")).to_be_visible()
    ui.axe("node summary")
    ui.open_resource("qemu/101", "Summary")
    expect(ui.content().locator("table.kv")).to_be_visible()
    ui.axe("VM summary")
    ui.open_resource("qemu/101", "Backup")
    ui.loaded()
    ui.axe("VM backup")
    ui.select_backup("vzdump-qemu-101")
    for button, label in (
        ("Backup now", "Backup VM 101"),
        ("Restore", "Restore VM 101"),
        ("Show Configuration", "Configuration"),
        ("Edit Notes", "Notes"),
        ("Remove", "Remove backup"),
    ):
        ui.toolbar_button(button).click()
        dialog = ui.dialog(label)
        expect(dialog.locator("form.dialog-form")).to_be_visible()
        ui.page.wait_for_timeout(400)  # the opening animation
        ui.axe(f"dialog {label}")
        ui.page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
    ui.open_resource("storage/uinode/local", "Summary")
    summary = ui.content().locator("table.kv")
    expect(summary).to_contain_text("dir")
    expect(summary).to_contain_text("/storage/local")
    expect(summary.locator("wa-progress-bar")).to_have_count(1)
    ui.axe("storage summary")
    ui.open_resource("storage/uinode/local", "Backups")
    ui.loaded()
    ui.axe("storage backups")
    ui.select_backup("vzdump-qemu-101")
    for button, label in (("Restore", "Restore: VM"), ("Prune group qemu/101", "Prune Backups")):
        ui.toolbar_button(button).click()
        dialog = ui.dialog(label)
        expect(dialog.locator("form.dialog-form")).to_be_visible()
        ui.page.wait_for_timeout(400)
        ui.axe(f"dialog {label}")
        ui.page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
    tasks = ui.page.locator("section.tasklist tbody tr[data-index]")
    tasks.first.dblclick()
    expect(ui.task_viewer().locator("form.dialog-form")).to_be_visible()
    ui.page.wait_for_timeout(400)
    ui.axe("task viewer")
