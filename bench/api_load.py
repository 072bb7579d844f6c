"""Benchmark: the API under load while backups run, against the same backups without load.

Run: .venv/bin/python -m bench.api_load [--clients 20] [--size-gib 1] [--max-requests 2000]
[--max-seconds 300]

A throw-away data dir gets two VMs (100, 101; TCG, stopped) with a qcow2 disk of --size-gib
each (a third random data, a third compressible text, a third never written) and a dir storage
of 1,000 fake backups. ``respaldo server`` runs on it as a user starts it, on loopback.

1. Without load: both VMs are backed up at once through the API (``POST
   /nodes/{node}/vzdump``, zstd, to ``local``), each timed from the POST until its task status
   says stopped (polled every 50 ms).
2. With load: --clients clients, each with its own keep-alive HTTPS connection (aiohttp, one
   process), ask in turn for the VM list, the 1,000 backups, the task list and the log of a
   backup task, while the same two backups run again. The clients stop when both backups have
   ended, after --max-requests requests each, or after --max-seconds, whichever comes first.

Printed: requests served, errors (a status other than 200, or no answer; target 0), p50 and
p99 latency (nearest rank) overall and per request, the server's CPU time per request, the
backups' times without and with load, and the load average: the machine is shared with other
work, so figures vary from run to run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import ssl
import tempfile
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.api import Server, fake_backups, percentile, running_server
from bench.common import Node, mixed_disk_vm, process_cpu_seconds, scratch_node

VMS = (100, 101)
POLL = 0.05  # seconds between task status polls


@dataclass
class Load:
    """What the clients saw: latency (ms) per request kind, errors."""

    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)

    @property
    def served(self) -> int:
        return sum(len(samples) for samples in self.latency.values())

    def all(self) -> list[float]:
        return [ms for samples in self.latency.values() for ms in samples]


def backup(server: Server, node_name: str, vmid: int) -> float:
    """Back VM ``vmid`` up through the API; seconds until its task stopped (OK required)."""
    start = time.perf_counter()
    reply = server.session.post(
        f"{server.url}/nodes/{node_name}/vzdump",
        data={"vmid": vmid, "storage": "local", "compress": "zstd", "mode": "snapshot"},
        timeout=60,
    )
    reply.raise_for_status()
    upid = reply.json()["data"]
    status_url = f"{server.url}/nodes/{node_name}/tasks/{upid}/status"
    while True:
        status = server.session.get(status_url, timeout=60).json()["data"]
        if status["status"] == "stopped":
            break
        time.sleep(POLL)
    if status.get("exitstatus") != "OK":
        raise SystemExit(f"backup of VM {vmid} failed: {status.get('exitstatus')}")
    return time.perf_counter() - start


async def two_backups(server: Server, node_name: str) -> dict[int, float]:
    """Both VMs backed up at once; seconds each."""
    times = await asyncio.gather(
        *(asyncio.to_thread(backup, server, node_name, vmid) for vmid in VMS)
    )
    return dict(zip(VMS, times, strict=True))


async def client(
    server: Server,
    paths: list[tuple[str, str]],
    context: ssl.SSLContext,
    load: Load,
    stop: asyncio.Event,
    max_requests: int,
    offset: int,
) -> None:
    """One client: its own connection, the requests in turn until ``stop`` or its count."""
    # a header: aiohttp's cookie jar keeps no cookie for an IP address
    ticket = urllib.parse.quote(str(server.session.cookies["PVEAuthCookie"]), safe="")
    connector = aiohttp.TCPConnector(ssl=context, limit=1)
    async with aiohttp.ClientSession(
        connector=connector, headers={"Cookie": f"PVEAuthCookie={ticket}"}
    ) as session:
        for n in range(max_requests):
            if stop.is_set():
                return
            kind, path = paths[(n + offset) % len(paths)]
            start = time.perf_counter()
            try:
                async with session.get(server.url + path) as reply:
                    await reply.read()
                    status = reply.status
            except (aiohttp.ClientError, TimeoutError) as err:
                load.errors.append(f"{kind}: {type(err).__name__}: {err}")
                continue
            if status != 200:
                load.errors.append(f"{kind}: HTTP {status}")
                continue
            load.latency[kind].append((time.perf_counter() - start) * 1000)


async def loaded_backups(
    server: Server, node_name: str, paths: list[tuple[str, str]], args: argparse.Namespace
) -> tuple[dict[int, float], Load, float]:
    """The two backups with --clients clients asking meanwhile; their times, what the clients
    saw, and the seconds the load lasted."""
    context = ssl.create_default_context(cafile=str(server.session.verify))
    load = Load()
    stop = asyncio.Event()
    clients = [
        asyncio.create_task(client(server, paths, context, load, stop, args.max_requests, offset))
        for offset in range(args.clients)
    ]
    start = time.perf_counter()
    backups = asyncio.create_task(two_backups(server, node_name))
    with contextlib.suppress(TimeoutError):  # the load ends; the backups go on
        await asyncio.wait_for(asyncio.shield(backups), args.max_seconds)
    stop.set()
    await asyncio.gather(*clients)
    seconds = time.perf_counter() - start
    times = await backups  # a backup that outlasts the load still ends, and is timed
    return times, load, seconds


def setup(node: Node, size_gib: float, tmp: Path) -> None:
    for vmid in VMS:
        mixed_disk_vm(node, vmid, size_gib, tmp)
    fake_backups(node, "bk", 1_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--size-gib", type=float, default=1.0)
    parser.add_argument("--max-requests", type=int, default=2000, help="per client")
    parser.add_argument("--max-seconds", type=float, default=300.0)
    args = parser.parse_args()
    with scratch_node() as node, tempfile.TemporaryDirectory() as tmp:
        node.env.pop("RESPALDO_NODE", None)
        setup(node, args.size_gib, Path(tmp))
        with running_server(node) as server:
            name = server.session.get(f"{server.url}/nodes").json()["data"][0]["node"]
            load_before = os.getloadavg()[0]
            quiet = asyncio.run(two_backups(server, name))
            tasks = server.session.get(f"{server.url}/nodes/{name}/tasks").json()["data"]
            paths = [
                ("VM list", f"/nodes/{name}/qemu"),
                ("1,000 backups", f"/nodes/{name}/storage/bk/content?content=backup"),
                ("task list", f"/nodes/{name}/tasks"),
                ("task log", f"/nodes/{name}/tasks/{tasks[0]['upid']}/log?limit=500"),
            ]
            cpu = process_cpu_seconds(server.proc.pid)
            loaded, load, seconds = asyncio.run(loaded_backups(server, name, paths, args))
            cpu = process_cpu_seconds(server.proc.pid) - cpu
            load_after = os.getloadavg()[0]
    report(args, quiet, loaded, load, seconds, cpu, (load_before, load_after))


def report(
    args: argparse.Namespace,
    quiet: dict[int, float],
    loaded: dict[int, float],
    load: Load,
    seconds: float,
    server_cpu: float,
    loadavg: tuple[float, float],
) -> None:
    every = load.all()
    print(
        f"{args.clients} clients on loopback (HTTPS, keep-alive), two {args.size_gib:g} GiB "
        f"VMs backed up at once (zstd); {os.cpu_count()} cores, shared with other work: load "
        f"average {loadavg[0]:.1f} before, {loadavg[1]:.1f} after"
    )
    print(
        f"requests served: {load.served} in {seconds:.1f} s ({load.served / seconds:.0f}/s); "
        f"errors: {len(load.errors)} (target 0)"
    )
    for text in sorted(set(load.errors))[:10]:
        print(f"  error: {text}")
    if every:
        print(
            f"latency: p50 {percentile(every, 50):.1f} ms, p99 {percentile(every, 99):.1f} ms; "
            f"server CPU {server_cpu * 1000 / max(1, load.served):.1f} ms per request (the "
            "backups run in task processes of their own; the status polls are counted)"
        )
    print("| request | served | p50 (ms) | p99 (ms) |")
    print("|---|---|---|---|")
    for kind, samples in load.latency.items():
        print(
            f"| {kind} | {len(samples)} | {percentile(samples, 50):.1f} "
            f"| {percentile(samples, 99):.1f} |"
        )
    print("| backup | without load (s) | with load (s) | ratio |")
    print("|---|---|---|---|")
    for vmid in VMS:
        print(
            f"| VM {vmid} | {quiet[vmid]:.1f} | {loaded[vmid]:.1f} "
            f"| {loaded[vmid] / quiet[vmid]:.2f} |"
        )
    print(f"(disk: {args.size_gib:g} GiB virtual, {2 * args.size_gib * 1024 / 3:.0f} MiB data)")


if __name__ == "__main__":
    main()
