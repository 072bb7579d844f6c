"""Benchmark: a storage's Backups panel with 1,000 backups, in Debian's Chromium.

Run: .venv/bin/python -m bench.ui [--backups 1000] [--rounds 5]

A scratch node gets --backups fake archives on its storage ``local`` (small files with
standard names, spread over ten VMs and twenty days, a third with notes and one in ten
protected: listing reads names, sizes and the side files, never the archive). ``respaldo
server`` runs as a user starts it; the UI logs in, and each round opens the storage, then
times, inside the page, from the click on its **Backups** tab to the list shown: every row in
the grid (which puts the rows in view in the page) and the first painted (the API call, the
rendering and the next animation frame). The API call alone is timed too, in the
same page, as the baseline. Prints the best and the median of the rounds (target: under 1 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from tests.ui.harness import CHROMIUM, CHROMIUM_ARGS, Server

DAY = 86400
STORAGE_ID = "storage/benchnode/local"

# Clicks the tab and resolves with the ms until the grid holds `count` rows, the first painted.
TIME_TAB = """async ([count]) => {
  const tab = [...document.querySelectorAll('main.content wa-tab')]
    .find((t) => t.textContent.trim() === 'Backups');
  // the grid renders the rows in view: it is done when it holds them all and shows the first
  const rows = () => {
    const table = document.querySelector('main.content .backup-list[data-state="loaded"] table');
    const first = table?.querySelector('tbody tr[data-index="0"]');
    return first && first.offsetHeight ? Number(table.dataset.rows) : 0;
  };
  const start = performance.now();
  tab.click();
  await new Promise((resolve) => {
    const check = () => (rows() >= count ? resolve() : requestAnimationFrame(check));
    check();
  });
  await new Promise((resolve) => requestAnimationFrame(() => resolve()));
  return performance.now() - start;
}"""

TIME_API = """async () => {
  const start = performance.now();
  const response = await fetch(
    '/api2/json/nodes/benchnode/storage/local/content?content=backup');
  const body = await response.json();
  if (!body.data) throw new Error('no data');
  return performance.now() - start;
}"""


def fake_backups(dump: Path, count: int) -> None:
    """``count`` archives named as vzdump names them, with notes and protection markers."""
    dump.mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    for i in range(count):
        vmid = 100 + i % 10
        stamp = time.strftime("%Y_%m_%d-%H_%M_%S", time.localtime(now - i * 1777 - DAY))
        name = f"vzdump-qemu-{vmid}-{stamp}.vma.zst"
        (dump / name).write_bytes(b"\0" * (512 + i))
        if i % 3 == 0:
            (dump / f"{name}.notes").write_text(f"vm{vmid} nightly {i}\n")
        if i % 10 == 0:
            (dump / f"{name}.protected").write_text("")


def login(page: Page, server: Server) -> None:
    page.goto(server.url)
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(server.password)
    realm = page.locator("wa-select[name=realm]")
    realm.click()
    realm.locator("wa-option[value=pve]").click()
    page.get_by_role("button", name="Login").click()
    page.locator(".user-name").wait_for()


def open_storage(page: Page) -> None:
    """Open the Datacenter, then the storage: its view is built anew, on its Summary tab."""
    page.locator("wa-tree-item[data-id='root'] > .tree-label").click()
    page.locator(f"wa-tree-item[data-id='{STORAGE_ID}'] > .tree-label").click()
    page.locator("main.content wa-tab", has_text="Backups").wait_for()


def measure(server: Server, backups: int, rounds: int) -> tuple[list[float], list[float]]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(
                ignore_https_errors=True, viewport={"width": 1400, "height": 900}
            )
            login(page, server)
            page.locator(f"wa-tree-item[data-id='{STORAGE_ID}']").wait_for()
            panel: list[float] = []
            api: list[float] = []
            for _ in range(rounds + 1):  # the first round warms the caches and is dropped
                open_storage(page)
                panel.append(float(page.evaluate(TIME_TAB, [backups])))
                api.append(float(page.evaluate(TIME_API)))
            return panel[1:], api[1:]
        finally:
            browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backups", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print("bench.ui: Debian's chromium is missing: run scripts/setup", file=sys.stderr)
        return 2
    base = Path(tempfile.mkdtemp(prefix="respaldo-bench-ui."))
    home = base / "node"
    (home / "config").mkdir(parents=True)
    env = dict(os.environ, RESPALDO_HOME=str(home), RESPALDO_NODE="benchnode")
    server = Server(home, env)
    try:
        fake_backups(home / "storage" / "local" / "dump", args.backups)
        server.start()
        panel, api = measure(server, args.backups, args.rounds)
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
    print(f"storage Backups panel, {args.backups} backups, {args.rounds} rounds in Chromium:")
    print(
        f"  click on the tab -> list shown: best {min(panel):.0f} ms, "
        f"median {statistics.median(panel):.0f} ms (target < 1000 ms)"
    )
    print(
        f"  the API call alone (GET .../content?content=backup): best {min(api):.0f} ms, "
        f"median {statistics.median(api):.0f} ms"
    )
    print(f"  UI time / API time (median): {statistics.median(panel) / statistics.median(api):.2f}")
    return 0 if statistics.median(panel) < 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
