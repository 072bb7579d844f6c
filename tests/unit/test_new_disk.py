"""New disks given as ``<storage>:<GiB>``: sizes as qemu-server computes them."""

from __future__ import annotations

import pytest

from respaldo.config.vmconfig import Drive
from respaldo.errors import InputError
from respaldo.services.disks import new_disk_request


@pytest.mark.parametrize(
    ("volume", "size"),
    [
        ("local:4", 4 << 30),
        ("local:0.5", 512 << 20),
        # a fraction of a KiB is rounded up to the next KiB (PVE::Tools::convert_size)
        ("local:0.01", 10486 << 10),
        ("other:0.0000001", 1 << 10),
    ],
)
def test_size_in_gib_rounded_up_to_whole_kib(volume: str, size: int) -> None:
    request = new_disk_request(Drive("scsi0", volume, {}))
    storage = volume.partition(":")[0]
    assert request is not None
    # no format= given: the storage's default (raw on a dir storage) applies at allocation
    assert (request.storage, request.size, request.format) == (storage, size, None)


def test_zero_size_refused() -> None:
    with pytest.raises(InputError, match="above 0 GiB"):
        new_disk_request(Drive("scsi0", "local:0", {}))


def test_an_existing_volume_is_no_request() -> None:
    assert new_disk_request(Drive("scsi0", "local:100/vm-100-disk-0.qcow2", {})) is None
