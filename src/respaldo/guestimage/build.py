"""Build respaldo's test/demo guest from Debian packages: a kernel and a busybox initramfs.

Everything comes from the Debian archive the host's apt is configured for, fetched with
``apt-get download`` and unpacked with ``dpkg-deb -x`` (nothing is installed on the host):

- the kernel of the ``linux-image-*-amd64`` package that ``linux-image-amd64`` depends on, and
  the modules the guest needs (virtio PCI, virtio-blk, virtio-console, ext4; each module's
  declared dependencies are added and ordered before it; compressed modules are unpacked so
  that busybox ``insmod`` loads them);
- ``busybox-static`` (the shell, ``/init`` runs on it, and every applet as a symlink);
- ``qemu-guest-agent``'s ``qemu-ga`` with the shared libraries it needs and the dynamic
  loader, taken from the library packages it depends on (the host's copy of a library is the
  fallback should one be missing from them).

The initramfs is a gzip-compressed newc cpio archive made by the ``cpio`` tool (Debian package
``cpio``; busybox's own ``cpio`` applet is the fallback when it is not installed). Its
``/dev/console`` node is created with ``mknod``, so building needs root (CAP_MKNOD).

Guest side (``init.sh``, ``workload.sh`` next to this module): the first virtio disk
(``/dev/vda``) is mounted at ``/data``. It must already hold an ext4 file system: the guest has
no ``mkfs.ext4``, so format the disk on the host before the first boot
(``mkfs.ext4 -q -F <raw image>``). Once the disk is mounted and the agent listens, the console
shows ``RESPALDO-GUEST-READY``; then the writer workload runs (see workload.sh), unless the
kernel command line says ``respaldo.workload=0``. ``qm shutdown`` (the ACPI power button) and
the agent's ``guest-shutdown`` stop the workload, unmount /data and power the VM off.

Results are cached in ``cache_dir/images/<key>`` where the key hashes the exact package files
(name, version, checksum), the two scripts and :data:`BUILDER_VERSION`. Finding the key asks
apt (a few seconds on hosts whose apt keeps no binary cache), so an index keyed by the state
of the apt lists and the scripts makes a repeated call return at once.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import shlex
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

from respaldo.errors import CommandError, RespaldoError
from respaldo.runner import run_bytes

#: Bump when the built image changes for the same packages and scripts.
BUILDER_VERSION = "1"

KERNEL_META_PACKAGE = "linux-image-amd64"
AGENT_PACKAGE = "qemu-guest-agent"
BUSYBOX_PACKAGE = "busybox-static"

#: The modules the guest loads, in an order that works; each module's own ``depends=`` list is
#: followed too, and a module built into the kernel is skipped. ``button`` and ``evdev`` let
#: busybox ``acpid`` see the ACPI power button (``qm shutdown``).
MODULES = (
    "virtio_ring",
    "virtio",
    "virtio_pci_legacy_dev",
    "virtio_pci_modern_dev",
    "virtio_pci",
    "virtio_blk",
    "virtio_console",
    "crc16",
    "mbcache",
    "jbd2",
    "crc32c_generic",
    "ext4",
    "button",
    "evdev",
)

SCRIPTS = ("init.sh", "workload.sh")
#: How many built images the cache keeps (a running VM keeps using its files).
KEEP_IMAGES = 3
KERNEL_CMDLINE = ("console=ttyS0", "quiet", "panic=-1")

_AGENT = "usr/sbin/qemu-ga"
_BUSYBOX = "bin/busybox"
_LOADER = "lib64/ld-linux-x86-64.so.2"
_LIB_DIRS = ("lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib", "usr/lib")
_GUEST_LIB_DIR = "lib/x86_64-linux-gnu"
_LIB_PACKAGE = re.compile(r"^(lib|zlib)")
_APT_LISTS = Path("/var/lib/apt/lists")
_ENV = dict(os.environ, LC_ALL="C", DEBIAN_FRONTEND="noninteractive")


class GuestBuildError(RespaldoError):
    """The test guest could not be built."""


class _AptError(GuestBuildError):
    """apt failed; an ``apt-get update`` may help."""


@dataclass(frozen=True)
class GuestImage:
    kernel: Path
    initrd: Path


def default_cache_dir() -> Path:
    """``$RESPALDO_GUEST_CACHE``, else ``~/.cache/respaldo/guest``."""
    env = os.environ.get("RESPALDO_GUEST_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "respaldo" / "guest"


def guest_args(image: GuestImage, workload: bool = True, append: str = "") -> str:
    """The value of a VM config's ``args:`` key that boots ``image``.

    ``-no-reboot`` makes QEMU exit instead of rebooting, so a guest that panics (``panic=-1``
    reboots at once) or reboots ends its VM. ``workload=False`` boots to an idle guest.
    """
    cmdline = list(KERNEL_CMDLINE)
    if not workload:
        cmdline.append("respaldo.workload=0")
    if append:
        cmdline.append(append)
    return shlex.join(
        [
            "-kernel",
            str(image.kernel),
            "-initrd",
            str(image.initrd),
            "-append",
            " ".join(cmdline),
            "-no-reboot",
        ]
    )


def install(image: GuestImage, folder: Path) -> GuestImage:
    """Copies of the kernel and initramfs in ``folder`` (the cache keeps only recent builds)."""
    folder.mkdir(parents=True, exist_ok=True)
    kernel, initrd = folder / "vmlinuz", folder / "initrd.img"
    shutil.copyfile(image.kernel, kernel)
    shutil.copyfile(image.initrd, initrd)
    return GuestImage(kernel, initrd)


def build_guest(cache_dir: Path | None = None) -> GuestImage:
    """Build the guest (or find it in ``cache_dir``) and return its kernel and initramfs."""
    cache_dir = (cache_dir or default_cache_dir()).absolute()
    scripts = _scripts()
    image = _lookup(cache_dir, _quick_key(scripts))
    if image is not None:
        return image
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _locked(cache_dir / ".lock"):
        image = _lookup(cache_dir, _quick_key(scripts))  # built meanwhile by another process?
        if image is not None:
            return image
        try:
            key = _build_or_find(cache_dir, scripts)
        except _AptError:
            # Missing or outdated package lists: refresh them once and try again.
            _apt(["apt-get", "update", "-qq"])
            key = _build_or_find(cache_dir, scripts)
        _write_index(cache_dir, _quick_key(scripts), key)
        return _image(cache_dir / "images" / key)


# -- cache ------------------------------------------------------------------------------------


def _scripts() -> dict[str, bytes]:
    package = resources.files("respaldo.guestimage")
    return {name: package.joinpath(name).read_bytes() for name in SCRIPTS}


def _digest(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:20]


def _quick_key(scripts: dict[str, bytes]) -> str:
    """Changes whenever the apt lists (so possibly a package version) or a script change."""
    lists = []
    with contextlib.suppress(OSError):
        for entry in sorted(_APT_LISTS.iterdir()):
            if entry.is_file() and entry.name != "lock":
                st = entry.stat()
                lists.append([entry.name, st.st_size, st.st_mtime_ns])
    return _digest({"builder": BUILDER_VERSION, "scripts": _script_sums(scripts), "lists": lists})


def _script_sums(scripts: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in scripts.items()}


def _image(folder: Path) -> GuestImage:
    return GuestImage(kernel=folder / "vmlinuz", initrd=folder / "initrd.img")


def _complete(folder: Path) -> bool:
    image = _image(folder)
    return image.kernel.is_file() and image.initrd.is_file()


def _lookup(cache_dir: Path, quick_key: str) -> GuestImage | None:
    try:
        key = (cache_dir / "index" / quick_key).read_text().strip()
    except OSError:
        return None
    folder = cache_dir / "images" / key
    return _image(folder) if key and _complete(folder) else None


def _write_index(cache_dir: Path, quick_key: str, key: str) -> None:
    index = cache_dir / "index"
    index.mkdir(parents=True, exist_ok=True)
    tmp = index / f".{quick_key}.tmp"
    tmp.write_text(key + "\n")
    tmp.replace(index / quick_key)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _build_or_find(cache_dir: Path, scripts: dict[str, bytes]) -> str:
    debs = _candidate_debs(_packages())
    key = _digest(
        {"builder": BUILDER_VERSION, "scripts": _script_sums(scripts), "debs": sorted(debs)}
    )
    folder = cache_dir / "images" / key
    if not _complete(folder):
        _build(cache_dir, folder, scripts, [name for name, _ in debs])
        _prune(cache_dir, keep=KEEP_IMAGES)
    return key


def _prune(cache_dir: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest images, and index entries naming deleted ones."""
    images = sorted(
        (p for p in (cache_dir / "images").iterdir() if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in images[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    with contextlib.suppress(OSError):
        for entry in (cache_dir / "index").iterdir():
            with contextlib.suppress(OSError):
                if not (cache_dir / "images" / entry.read_text().strip()).is_dir():
                    entry.unlink()


# -- external programs ------------------------------------------------------------------------


def _run(argv: list[str], cwd: Path | None = None, data: bytes | None = None) -> bytes:
    return run_bytes(argv, timeout=900, env=_ENV, data=data, cwd=cwd)


def _apt(argv: list[str], cwd: Path | None = None) -> str:
    try:
        return _run(argv, cwd=cwd).decode()
    except CommandError as err:
        raise _AptError(str(err)) from err


# -- packages ---------------------------------------------------------------------------------


def _depends(apt_cache_output: str) -> list[str]:
    """Package names from ``apt-cache depends`` output; of alternatives only the first."""
    names = []
    in_alternatives = False
    for line in apt_cache_output.splitlines():
        match = re.match(r"^ ([ |])Depends: (\S+)$", line)
        if not match:
            if not line.startswith(" "):
                in_alternatives = False  # the next package's header
            continue
        marker, name = match.groups()
        if not in_alternatives and not name.startswith("<"):
            names.append(name)
        in_alternatives = marker == "|"
    return names


def _kernel_package() -> str:
    out = _apt(["apt-cache", "depends", KERNEL_META_PACKAGE])
    for name in _depends(out):
        if re.fullmatch(r"linux-image-.+-amd64", name):
            return name
    raise _AptError(f"no linux-image-*-amd64 package among the dependencies of {out!r}")


def _library_closure(root: str) -> list[str]:
    """The library packages ``root`` depends on, directly or through other libraries."""
    seen = {root}
    frontier = [root]
    while frontier:
        out = _apt(
            [
                "apt-cache",
                "depends",
                "--no-pre-depends",
                "--no-recommends",
                "--no-suggests",
                "--no-conflicts",
                "--no-breaks",
                "--no-replaces",
                "--no-enhances",
                *frontier,
            ]
        )
        frontier = []
        for name in _depends(out):
            if name not in seen and _LIB_PACKAGE.match(name):
                seen.add(name)
                frontier.append(name)
    return sorted(seen - {root})


def _packages() -> list[str]:
    return [
        _kernel_package(),
        BUSYBOX_PACKAGE,
        AGENT_PACKAGE,
        *_library_closure(AGENT_PACKAGE),
    ]


def _candidate_debs(packages: list[str]) -> list[tuple[str, str]]:
    """(package, ``.deb`` file name and checksum) of each package's candidate version."""
    out = _apt(["apt-get", "download", "--print-uris", *packages])
    debs = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[1].endswith(".deb"):
            debs.append((parts[1].split("_")[0], f"{parts[1]} {parts[3]}"))
    missing = set(packages) - {name for name, _ in debs}
    if missing:
        raise _AptError(f"apt-get download --print-uris did not list {sorted(missing)}: {out}")
    return sorted(debs)


def _download(packages: list[str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    argv = ["apt-get", "download", "-q"]
    if os.geteuid() == 0:
        argv += ["-o", "APT::Sandbox::User=root"]  # _apt may not write into a private dir
    _apt([*argv, *packages], cwd=folder)


# -- the build --------------------------------------------------------------------------------


def _build(cache_dir: Path, folder: Path, scripts: dict[str, bytes], packages: list[str]) -> None:
    for stale in cache_dir.glob(".build-*"):  # left by a killed build (we hold the lock)
        shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".build-") as tmpname:
        tmp = Path(tmpname)
        debs, root, stage, result = tmp / "debs", tmp / "root", tmp / "initramfs", tmp / "result"
        _download(packages, debs)
        for deb in sorted(debs.glob("*.deb")):
            _run(["dpkg-deb", "-x", str(deb), str(root)])
        kernels = sorted((root / "boot").glob("vmlinuz-*"))
        if len(kernels) != 1:
            raise GuestBuildError(f"expected one kernel in the packages, found {kernels}")
        kernel = kernels[0]
        kernel_version = kernel.name.removeprefix("vmlinuz-")
        modules = _stage(root, stage, kernel_version, scripts)
        result.mkdir()
        shutil.copyfile(kernel, result / "vmlinuz")
        (result / "initrd.img").write_bytes(
            gzip.compress(_cpio(stage, root), compresslevel=6, mtime=0)
        )
        info = {
            "builder": BUILDER_VERSION,
            "kernel_version": kernel_version,
            "packages": sorted(p.name for p in debs.glob("*.deb")),
            "modules": modules,
        }
        (result / "info.json").write_text(json.dumps(info, indent=2) + "\n")
        folder.parent.mkdir(parents=True, exist_ok=True)
        if folder.exists():
            shutil.rmtree(folder)
        result.replace(folder)


def _inside(root: Path, relative: str) -> Path:
    """``root/relative`` with every symlink resolved as if ``root`` were ``/``."""
    parts = list(PurePosixPath(relative).parts)
    path = root
    hops = 0
    while parts:
        part = parts.pop(0)
        if part in ("/", "."):
            continue
        if part == "..":
            path = path.parent if path != root else root
            continue
        candidate = path / part
        if candidate.is_symlink():
            hops += 1
            if hops > 40:
                raise GuestBuildError(f"too many symlinks at {root / relative}")
            target = os.readlink(candidate)
            parts = list(PurePosixPath(target).parts) + parts
            if target.startswith("/"):
                path = root
            continue
        path = candidate
    return path


def _target(stage: Path, relative: str) -> Path:
    """Where ``relative`` goes in the initramfs tree; never outside it, never written twice.

    The build runs as root: a path that escaped the tree (an absolute name, ``..``, a symlink)
    would overwrite a file of the host.
    """
    rel = PurePosixPath(relative)
    if not rel.parts or rel.is_absolute() or ".." in rel.parts:
        raise GuestBuildError(f"refusing to put {relative!r} into the initramfs")
    base = stage.resolve()
    for depth in range(1, len(rel.parts)):
        ancestor = stage.joinpath(*rel.parts[:depth])
        if ancestor.is_symlink() and not ancestor.resolve().is_relative_to(base):
            raise GuestBuildError(f"refusing to put {relative!r} into the initramfs (a symlink)")
    target = stage.joinpath(*rel.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        raise GuestBuildError(f"{relative!r} is put into the initramfs twice")
    return target


def _put(stage: Path, relative: str, data: bytes, mode: int = 0o644) -> None:
    target = _target(stage, relative)
    with target.open("xb") as f:
        f.write(data)
    target.chmod(mode)


def _stage(root: Path, stage: Path, kernel_version: str, scripts: dict[str, bytes]) -> list[str]:
    """Lay out the initramfs tree in ``stage``; returns the modules in load order."""
    stage.mkdir()
    for name in ("dev", "proc", "sys", "data", "run", "tmp", "lib64", "var", _GUEST_LIB_DIR):
        _target(stage, name).mkdir()
    _target(stage, "var/run").symlink_to("../run")
    try:
        os.mknod(_target(stage, "dev/console"), 0o600 | stat.S_IFCHR, os.makedev(5, 1))
    except PermissionError as err:
        raise GuestBuildError(
            "building the test guest needs root: its initramfs needs a /dev/console node"
        ) from err

    _put(stage, _BUSYBOX, _inside(root, _BUSYBOX).read_bytes(), 0o755)
    applets = _run([str(stage / _BUSYBOX), "--list-full"]).decode().split()
    for applet in sorted(set(applets) - {_BUSYBOX}):
        _target(stage, applet).symlink_to("/" + _BUSYBOX)

    modules = _stage_modules(stage, root / "lib" / "modules" / kernel_version)
    _put(stage, "etc/respaldo/modules", "".join(f"{m}\n" for m in modules).encode())

    agent = _inside(root, _AGENT)
    _put(stage, _AGENT, agent.read_bytes(), 0o755)
    for soname, path in _shared_libraries(root, agent):
        _put(stage, f"{_GUEST_LIB_DIR}/{soname}", path.read_bytes(), 0o755)
    _put(stage, _LOADER, _inside(root, _LOADER).read_bytes(), 0o755)

    for name, data in scripts.items():
        _put(stage, "init" if name == "init.sh" else name, data, 0o755)
    return modules


def _module_name(path: Path) -> str:
    return path.name.split(".ko")[0].replace("-", "_")


def _module_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".ko.xz"):
        return lzma.decompress(data)
    if path.name.endswith(".ko.gz"):
        return gzip.decompress(data)
    if path.name.endswith(".ko.zst"):
        import zstandard  # noqa: PLC0415 - only kernels with zstd-compressed modules need it

        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data))
        out: bytes = reader.read()
        return out
    return data


def _module_depends(data: bytes) -> list[str]:
    match = re.search(rb"(?:^|\x00)depends=([^\x00]*)\x00", data)
    if match is None or not match.group(1):
        return []
    return [name.replace("-", "_") for name in match.group(1).decode().split(",")]


def _stage_modules(stage: Path, moddir: Path) -> list[str]:
    files = {_module_name(p): p for p in moddir.rglob("*.ko*") if ".ko" in p.name}
    builtin = set()
    with contextlib.suppress(OSError):
        builtin = {
            _module_name(Path(line)) for line in (moddir / "modules.builtin").read_text().split()
        }
    order: list[str] = []
    contents: dict[str, bytes] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in order or name in builtin:
            return
        if name in chain:
            raise GuestBuildError(f"module dependency cycle: {' -> '.join((*chain, name))}")
        if name not in files:
            raise GuestBuildError(f"kernel module {name} is not in {moddir}")
        contents[name] = _module_bytes(files[name])
        for dep in _module_depends(contents[name]):
            visit(dep, (*chain, name))
        order.append(name)

    for name in MODULES:
        visit(name, ())
    for name in order:
        _put(stage, f"lib/modules/{name}.ko", contents[name])
    return order


def _shared_libraries(root: Path, binary: Path) -> list[tuple[str, Path]]:
    """(soname, file) of every library ``binary`` loads, resolved in ``root`` first."""
    loader = _inside(root, _LOADER)
    search = ":".join(str(root / d) for d in _LIB_DIRS)
    out = _run([str(loader), "--library-path", search, "--list", str(binary)]).decode()
    libs = []
    for line in out.splitlines():
        if "=> not found" in line:
            raise GuestBuildError(f"{binary.name} needs {line.split()[0]}, found nowhere")
        match = re.match(r"^\s*([^/\s]+) => (\S+) \(0x[0-9a-f]+\)$", line)
        if match is None:
            continue  # the vdso and the loader itself (named by its absolute path)
        soname, path = match.groups()
        # Normally inside root; else a library none of the packages has, taken from the host.
        libs.append((soname, Path(path).resolve()))
    return libs


def _cpio(stage: Path, root: Path) -> bytes:
    """The newc archive of ``stage``, every entry owned by root."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(stage):
        dirnames.sort()
        relative = Path(dirpath).relative_to(stage)
        for name in sorted(dirnames + filenames):
            entries.append(str(relative / name))
    listing = b"".join(os.fsencode(entry) + b"\0" for entry in entries)
    gnu = shutil.which("cpio")
    program = [gnu, "--quiet"] if gnu else [str(_inside(root, _BUSYBOX)), "cpio"]
    return _run([*program, "-o", "-H", "newc", "-R", "0:0", "-0"], cwd=stage, data=listing)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m respaldo.guestimage.build",
        description="Build respaldo's test guest and print the VM config's args: value.",
    )
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--no-workload", action="store_true", help="boot to an idle guest")
    parser.add_argument(
        "--install-dir",
        type=Path,
        help="copy kernel and initramfs here (a VM should not depend on the cache's contents)",
    )
    options = parser.parse_args(argv)
    try:
        image = build_guest(options.cache_dir)
        if options.install_dir is not None:
            image = install(image, options.install_dir)
    except (RespaldoError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(guest_args(image, workload=not options.no_workload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
