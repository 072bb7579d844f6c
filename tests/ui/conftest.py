"""Browser tier: the web UI in Debian's Chromium (``/usr/bin/chromium``, installed by
scripts/setup; Playwright never downloads a browser), against ``respaldo server`` started as
a user starts it: a subprocess with its own RESPALDO_HOME (TCG, a second storage, real QEMU
VMs with no OS and 64 MiB of memory), on a free loopback port, mail relayed to a local SMTP
server. Every process (server, QEMUs, task processes) is killed and every file removed at
teardown, passed or failed.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, Playwright, expect, sync_playwright

from respaldo.access.acl import modify_acl
from respaldo.access.control import Access
from respaldo.access.users import add_user
from respaldo.node import Node
from tests.smtpserver import LOOPBACK, Collector, start_smtp_server
from tests.ui.harness import CHROMIUM, CHROMIUM_ARGS, Server

NODE = "uinode"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE = Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js"
#: A user who may look at everything and change nothing (role PVEAuditor on /).
AUDITOR = ("auditor", "auditor-password")
#: ms for a UI step; a backup or restore under TCG gets TASK_TIMEOUT
STEP_TIMEOUT = 15_000
TASK_TIMEOUT = 90_000


@dataclass
class Node100:
    """The test node: the server, the SMTP collector, and what the tests share."""

    server: Server
    mail: Collector


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node100]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run scripts/setup first")
    if shutil.which("qemu-system-x86_64") is None:
        pytest.fail("qemu-system-x86_64 is not installed: run scripts/setup first")
    base = tmp_path_factory.mktemp("ui")
    home = base / "node"
    (home / "config").mkdir(parents=True)
    (home / "config" / "node.cfg").write_text("accel: tcg\n")
    collector = Collector()
    smtp = start_smtp_server(collector)
    env = dict(
        os.environ,
        RESPALDO_HOME=str(home),
        RESPALDO_NODE=NODE,
        RESPALDO_SMTP_RELAY=f"{LOOPBACK}:{smtp.port}",
        RESPALDO_MAIL_FROM="backup@uinode.test",
    )
    server = Server(home, env)
    try:
        server.cli(
            "pvesm",
            "add",
            "dir",
            "second",
            "--path",
            str(base / "second"),
            "--content",
            "images,backup",
        )
        for vmid, name in (("100", "alpha"), ("101", "beta")):
            server.cli(
                "qm", "create", vmid, "--name", name, "--memory", "64", "--virtio0", "local:0.0625"
            )
        server.cli("qm", "start", "100")
        access = Access(Node(home, NODE))
        add_user(access, f"{AUDITOR[0]}@pve", password=AUDITOR[1])
        modify_acl(access, "/", "PVEAuditor", users=f"{AUDITOR[0]}@pve")
        server.start()
        yield Node100(server, collector)
    finally:
        server.stop()
        smtp.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()


class Ui:
    """A page of the UI and the steps a person takes in it."""

    def __init__(self, page: Page, node: Node100) -> None:
        self.page = page
        self.node = node

    # -- login ------------------------------------------------------------------------------

    def open(self) -> None:
        self.page.goto(self.node.server.url)
        expect(self.page.get_by_role("button", name="Login")).to_be_visible()

    def login(self, user: str = "admin", password: str | None = None, realm: str = "pve") -> None:
        page = self.page
        page.get_by_label("User name").fill(user)
        page.get_by_label("Password").fill(
            self.node.server.password if password is None else password
        )
        self.choose(page.locator("wa-select[name=realm]"), realm)
        page.get_by_role("button", name="Login").click()

    def logged_in(self) -> None:
        self.open()
        self.login()
        expect(self.page.locator(".user-name")).to_have_text("admin@pve")

    def choose(self, select: Locator, value: str) -> None:
        """Pick a wa-select's option by value, with the mouse as a person does."""
        select.click()
        select.locator(f"wa-option[value='{value}']").click()
        expect(select).to_have_js_property("value", value)

    # -- navigation -------------------------------------------------------------------------

    def tree_item(self, resource_id: str) -> Locator:
        return self.page.locator(f"wa-tree-item[data-id='{resource_id}']")

    def open_resource(self, resource_id: str, tab: str | None = None) -> None:
        self.tree_item(resource_id).locator(":scope > .tree-label").click()
        if tab:
            self.page.get_by_role("tab", name=tab).click()

    def content(self) -> Locator:
        return self.page.locator("main.content")

    def backup_list(self) -> Locator:
        return self.content().locator(".backup-list")

    def backup_rows(self) -> Locator:
        return self.backup_list().locator("tbody tr[data-index]")

    def loaded(self) -> None:
        expect(self.backup_list()).to_have_attribute("data-state", "loaded")

    def select_backup(self, text: str) -> Locator:
        row = self.backup_rows().filter(has_text=text).first
        row.click()
        expect(row).to_have_attribute("aria-selected", "true")
        return row

    def toolbar_button(self, name: str) -> Locator:
        return self.content().get_by_role("button", name=name, exact=True)

    def dialog(self, label: str) -> Locator:
        return self.page.locator(f'wa-dialog[open][label^="{label}"]')

    # -- tasks ------------------------------------------------------------------------------

    def task_viewer(self) -> Locator:
        return self.page.locator("wa-dialog.task-viewer[open]")

    def wait_task(self, ok: bool = True) -> str:
        """Wait until the open task viewer shows the task stopped; its final status line."""
        state = self.task_viewer().locator(".task-state")
        log = self.task_viewer().locator("pre.tasklog")
        try:
            expect(state).to_contain_text("stopped", timeout=TASK_TIMEOUT)
        except AssertionError as err:
            raise AssertionError(f"the task did not end: {log.inner_text()}") from err
        text = state.inner_text()
        if ok:
            assert text.endswith("OK"), log.inner_text()
        return text

    def close_task_viewer(self) -> None:
        self.task_viewer().locator("wa-button.cancel").click()
        expect(self.task_viewer()).to_have_count(0)

    # -- checks -----------------------------------------------------------------------------

    def screenshot(self, name: str, target: Locator | None = None) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        if target is None:
            self.page.screenshot(path=str(path))
        else:
            target.screenshot(path=str(path))

    def axe(self, what: str, within: str | None = None) -> None:
        """Run axe-core on the page (or only on the element matching the CSS selector
        ``within``, e.g. an open dialog); fail on any serious or critical violation."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(content=AXE.read_text())
        result = self.page.evaluate(
            "async (within) => JSON.stringify((await axe.run("
            "within ? document.querySelector(within) : document, "
            "{resultTypes: ['violations']})).violations)",
            within,
        )
        bad = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in json.loads(result)
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"{what}: accessibility violations: {json.dumps(bad, indent=1)}"


@pytest.fixture
def ui(browser: Browser, node: Node100) -> Iterator[Ui]:
    context = browser.new_context(
        ignore_https_errors=True, viewport={"width": 1400, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(STEP_TIMEOUT)
    expect.set_options(timeout=STEP_TIMEOUT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    try:
        yield Ui(page, node)
        assert not errors, f"JavaScript errors in the page: {errors}"
    finally:
        debug = os.environ.get("RESPALDO_UI_DEBUG")  # a file for the last page's picture
        if debug:
            page.screenshot(path=debug)
        context.close()
