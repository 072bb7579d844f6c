"""Backup now takes its defaults from the node's vzdump.conf (GET .../vzdump/defaults) and the
chosen storage's retention: the mode, the notes template, the mail address; the Prune choice
with the storage's keep-* values, only for a storage that prunes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import Node100, Ui

pytestmark = [pytest.mark.browser, pytest.mark.qemu, pytest.mark.timeout(180)]


def test_backup_now_is_prefilled_from_the_node_and_storage_defaults(ui: Ui, node: Node100) -> None:
    config = node.server.home / "config"
    (config / "vzdump.conf").write_text(
        "mode: suspend\nmailto: night@example.org\nnotes-template: {{vmid}} nightly\\n{{node}}\n"
    )
    storage_cfg = config / "storage.cfg"
    storage_cfg.write_text(
        storage_cfg.read_text().replace(
            "dir: second\n", "dir: second\n\tprune-backups keep-last=3,keep-weekly=2\n"
        )
    )
    ui.logged_in()
    ui.open_resource("qemu/101", "Backup")
    ui.loaded()
    ui.toolbar_button("Backup now").click()
    dialog = ui.dialog("Backup VM 101 (beta)")
    expect(dialog.locator("wa-select[name=mode]")).to_have_js_property("value", "suspend")
    expect(dialog.locator("wa-select[name='notification-mode']")).to_have_js_property(
        "value", "legacy-sendmail"
    )
    expect(dialog.locator("wa-input[name=mailto]")).to_have_js_property(
        "value", "night@example.org"
    )
    expect(dialog.locator("wa-textarea[name='notes-template']")).to_have_js_property(
        "value", "{{vmid}} nightly\n{{node}}"
    )
    prune = dialog.locator("wa-checkbox[name=remove]")
    expect(prune).to_be_hidden()  # 'local' keeps all
    ui.choose(dialog.locator("wa-select[name=storage]"), "second")
    expect(prune).to_be_visible()
    prune.click()
    retention = dialog.locator(".retention")
    expect(retention.locator("[data-key='keep-last'] .keep-value")).to_have_text("3")
    expect(retention.locator("[data-key='keep-weekly'] .keep-value")).to_have_text("2")
    expect(retention.locator("[data-key='keep-daily'] .keep-value")).to_have_text("-")
    ui.page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
