"""Benchmark: API latency of the big listings, against the same listing through the CLI.

Run: .venv/bin/python -m bench.api [--requests 100] [--cli-runs 10]

A throw-away data dir gets two dir storages holding 1,000 and 10,000 fake backups (empty
files named as vzdump names them, 100 VMIDs, one a minute) and 100 VM configs (no QEMU).
``respaldo server`` runs on it as a user starts it; one keep-alive HTTPS session (ticket
login) sends --requests sequential requests per listing after three warm-up ones:
``GET /nodes/{node}/storage/{storage}/content?content=backup`` and ``GET /nodes/{node}/qemu``,
each timed until its whole answer is in (not the client's JSON decoding). The CLI runs the same
listings --cli-runs times (``pvesm list <storage> --content backup --output-format json``,
``qm list --output-format json``): a process each time, as a script would. Printed: p50 and
p99 latency (nearest rank) of each, the server's CPU time per request (user + system, which
the machine's load does not stretch as it does the latency), the server's RSS sampled every
5 ms during the requests, the ratio CLI / API at p50, the load average, and what one
``os.stat`` costs here (the listing makes one per archive). Targets: 10,000 backups list in
under 200 ms at p99, the server staying under 150 MiB RSS meanwhile."""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from tests.serverproc import LOOPBACK, ServerDidNotStart, free_port, start_server

from bench.common import Node, process_cpu_seconds, scratch_node

VMIDS = range(100, 200)
LISTING_TARGET_MS = 200.0
RSS_TARGET_MIB = 150.0


def fake_backups(node: Node, storage: str, count: int) -> None:
    """A dir storage with ``count`` empty archives named as vzdump names them."""
    path = node.home / "bench" / storage
    node.respaldo("pvesm", "add", "dir", storage, "--path", str(path), "--content", "backup")
    dump = path / "dump"
    dump.mkdir(parents=True, exist_ok=True)
    start = datetime.datetime(2024, 1, 1)
    for n in range(count):
        stamp = (start + datetime.timedelta(minutes=n)).strftime("%Y_%m_%d-%H_%M_%S")
        vmid = VMIDS[n % len(VMIDS)]
        (dump / f"vzdump-qemu-{vmid}-{stamp}.vma.zst").touch()


def vm_configs(node: Node) -> None:
    """100 VM configs with a disk each (the disks need not exist for the list)."""
    folder = node.home / "config" / "qemu-server"
    folder.mkdir(parents=True, exist_ok=True)
    for vmid in VMIDS:
        (folder / f"{vmid}.conf").write_text(
            f"name: bench{vmid}\nmemory: 64\ncores: 1\n"
            f"scsi0: local:{vmid}/vm-{vmid}-disk-0.qcow2,size=4G\n"
        )


@dataclass
class Server:
    proc: subprocess.Popen[str]
    url: str
    session: requests.Session

    def memory_mib(self, field: str = "VmRSS") -> float:
        """The server process's resident memory now (VmRSS) or its peak (VmHWM), in MiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key == field:
                return int(value.split()[0]) / 1024
        raise KeyError(field)


@contextmanager
def rss_sampled(server: Server, every: float = 0.005) -> Iterator[list[float]]:
    """The server's RSS (MiB), sampled by a thread while the block runs; the list fills."""
    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every):
            samples.append(server.memory_mib())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        done.set()
        thread.join()


def stat_microseconds(folder: Path) -> float:
    """What one os.stat costs on this machine (a sandboxed VM makes system calls dear)."""
    names = [entry.path for entry in os.scandir(folder)][:2000]
    start = time.perf_counter()
    for name in names:
        os.stat(name)
    return (time.perf_counter() - start) / len(names) * 1e6


@contextmanager
def running_server(node: Node) -> Iterator[Server]:
    """``respaldo server`` on the node's data dir, logged in as admin@pve (the session sends
    the ticket, and the CSRF prevention token that writes need)."""
    try:
        started = start_server(node.env, free_port())
    except ServerDidNotStart as err:
        raise SystemExit(str(err)) from err
    try:
        url = f"https://{LOOPBACK}:{started.port}/api2/json"
        session = requests.Session()
        session.trust_env = False  # else REQUESTS_CA_BUNDLE would override the server's cert
        session.verify = str(node.home / "config" / "local" / "pve-ssl.pem")
        password = (node.home / "config" / "priv" / "admin-password").read_text().strip()
        login = session.post(
            f"{url}/access/ticket", data={"username": "admin@pve", "password": password}
        )
        login.raise_for_status()
        session.cookies.set("PVEAuthCookie", login.json()["data"]["ticket"])
        session.headers["CSRFPreventionToken"] = login.json()["data"]["CSRFPreventionToken"]
        yield Server(started.proc, url, session)
    finally:
        started.stop(grace=30)


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


#: A call that lists: returns the raw answer once it is complete; counted after the clock.
Call = Callable[[], bytes]


def measure(call: Call, count: int, warmup: int = 3) -> tuple[list[float], int]:
    """Milliseconds of ``count`` calls (after ``warmup``), each until its whole answer is
    there (the client's JSON decoding is not counted); the items the last one listed."""
    for _ in range(warmup):
        call()
    samples = []
    answer = b""
    for _ in range(count):
        start = time.perf_counter()
        answer = call()
        samples.append((time.perf_counter() - start) * 1000)
    data = json.loads(answer)
    return samples, len(data["data"] if isinstance(data, dict) else data)


def api_call(server: Server, path: str) -> Call:
    def call() -> bytes:
        reply = server.session.get(server.url + path, timeout=60)
        reply.raise_for_status()
        return reply.content

    return call


def cli_call(node: Node, *args: str) -> Call:
    def call() -> bytes:
        return node.respaldo(*args, "--output-format", "json").stdout.encode()

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--cli-runs", type=int, default=10)
    args = parser.parse_args()
    rows = []
    with scratch_node() as node:
        node.env.pop("RESPALDO_NODE", None)
        fake_backups(node, "b1k", 1_000)
        fake_backups(node, "b10k", 10_000)
        vm_configs(node)
        with running_server(node) as server:
            name = server.session.get(f"{server.url}/nodes").json()["data"][0]["node"]
            listings = [
                (
                    "1,000 backups",
                    f"/nodes/{name}/storage/b1k/content?content=backup",
                    ("pvesm", "list", "b1k", "--content", "backup"),
                    1_000,
                ),
                (
                    "10,000 backups",
                    f"/nodes/{name}/storage/b10k/content?content=backup",
                    ("pvesm", "list", "b10k", "--content", "backup"),
                    10_000,
                ),
                ("100 VMs", f"/nodes/{name}/qemu", ("qm", "list"), len(VMIDS)),
            ]
            load_before = os.getloadavg()[0]
            for label, path, cli, expected in listings:
                cpu = process_cpu_seconds(server.proc.pid)
                with rss_sampled(server) as rss:
                    api, listed = measure(api_call(server, path), args.requests)
                cpu = process_cpu_seconds(server.proc.pid) - cpu
                assert listed == expected, (label, listed)
                cli_ms, listed = measure(cli_call(node, *cli), args.cli_runs, warmup=1)
                assert listed == expected, (label, "cli", listed)
                rows.append((label, api, cli_ms, cpu * 1000 / (args.requests + 3), max(rss)))
            rss_peak = server.memory_mib("VmHWM")
            load_after = os.getloadavg()[0]
        stat_us = stat_microseconds(node.home / "bench" / "b10k" / "dump")
    print(
        f"{args.requests} API requests per listing (keep-alive HTTPS), {args.cli_runs} CLI runs; "
        f"{os.cpu_count()} cores, load average {load_before:.1f} before, {load_after:.1f} after; "
        f"one os.stat here: {stat_us:.1f} us"
    )
    print(
        "| listing | API p50 (ms) | API p99 (ms) | server CPU per request (ms) "
        "| server RSS (MiB) | CLI p50 (ms) | CLI p99 (ms) | CLI / API p50 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, api, cli_ms, cpu_ms, rss_mib in rows:
        p50, p99 = percentile(api, 50), percentile(api, 99)
        c50, c99 = percentile(cli_ms, 50), percentile(cli_ms, 99)
        print(
            f"| {label} | {p50:.1f} | {p99:.1f} | {cpu_ms:.1f} | {rss_mib:.0f} | {c50:.0f} "
            f"| {c99:.0f} | {c50 / p50:.1f} |"
        )
    p99_10k, rss_10k = percentile(rows[1][1], 99), rows[1][4]
    print(
        f"10,000 backups at p99: {p99_10k:.0f} ms (target < {LISTING_TARGET_MS:.0f} ms: "
        f"{'met' if p99_10k < LISTING_TARGET_MS else 'MISSED'}); server RSS while listing them: "
        f"{rss_10k:.0f} MiB at most (target < {RSS_TARGET_MIB:.0f} MiB: "
        f"{'met' if rss_10k < RSS_TARGET_MIB else 'MISSED'})"
    )
    print(
        f"server peak RSS since its start: {rss_peak:.0f} MiB (the argon2id password check of "
        "the login allocates 64 MiB for a moment)"
    )


if __name__ == "__main__":
    main()
