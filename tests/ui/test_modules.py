"""The UI's pure functions, run in Chromium as the page loads them (ES modules from
/static/js): prune reasons, notes template escaping, archived values, UPIDs, sizes."""

from __future__ import annotations

import pytest

from tests.ui.conftest import Ui

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def run(ui: Ui, module: str, code: str) -> object:
    """Evaluate `code` (an expression using `m`, the module) in the page."""
    return ui.page.evaluate(
        f"async () => {{ const m = await import('/static/js/{module}'); return {code}; }}"
    )


def test_prune_reasons_follow_the_rules_in_order(ui: Ui) -> None:
    ui.open()
    rows = [
        {"volid": f"local:backup/b{i}", "ctime": 1000 - i, "mark": mark}
        for i, mark in enumerate(["keep", "keep", "protected", "keep", "remove", "renamed"])
    ]
    reasons = run(
        ui,
        "backups/prune.js",
        f"Object.fromEntries(m.keepReasons({rows!r}, 'keep-last=1,keep-daily=2'))",
    )
    assert reasons == {
        "local:backup/b0": "keep-last: 1",
        "local:backup/b1": "keep-daily: 1",
        "local:backup/b3": "keep-daily: 2",
    }
    assert run(ui, "backups/prune.js", "m.pruneOptions({'keep-last': '', 'keep-weekly': '4'})") == (
        "keep-weekly=4"
    )
    assert run(ui, "backups/prune.js", "m.pruneOptions({})") == "keep-all=1"


def test_notes_template_escaping_round_trips(ui: Ui) -> None:
    ui.open()
    text = "a\\nb\n{{guestname}}\\d"  # a, backslash, n, b, newline, ..., backslash, d
    escaped = ui.page.evaluate(
        "async (t) => (await import('/static/js/util.js')).escapeNotesTemplate(t)", text
    )
    assert escaped == "a\\\\nb\\n{{guestname}}\\\\d"
    back = ui.page.evaluate(
        "async (t) => (await import('/static/js/util.js')).unescapeNotesTemplate(t)", escaped
    )
    assert back == text


def test_archived_values_upids_and_sizes(ui: Ui) -> None:
    ui.open()
    config = "name: alpha\\nmemory: 64\\ncores: 2\\nvirtio0: local:100/vm-100-disk-0.qcow2\\n"
    assert run(ui, "backups/restore.js", f"m.archivedValues('{config}')") == {
        "name": "alpha",
        "memory": "64",
        "cores": "2",
    }
    upid = "UPID:uinode:00001A2B:0000C0FE:66A1B2C3:vzdump:100:admin@pve:"
    parsed = run(ui, "tasks.js", f"m.parseUpid('{upid}')")
    assert parsed == {
        "node": "uinode",
        "pid": 0x1A2B,
        "starttime": 0x66A1B2C3,
        "type": "vzdump",
        "id": "100",
        "user": "admin@pve",
    }
    assert run(ui, "tasks.js", "m.taskDescription('vzdump', '100')") == "VM/CT 100 - Backup"
    assert run(ui, "tasks.js", "m.taskDescription('vzdump', '')") == "Backup Job"
    assert run(ui, "tasks.js", "m.taskDescription('qmrestore', '102')") == "VM 102 - Restore"
    assert run(
        ui, "util.js", "[m.formatSize(512), m.formatSize(1536), m.formatSize(3 * 2**30)]"
    ) == [
        "512 B",
        "1.50 KiB",
        "3.00 GiB",
    ]
