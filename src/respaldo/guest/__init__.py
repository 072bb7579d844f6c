"""respaldo's minimal Linux test/demo guest: a Debian kernel plus a busybox initramfs.

The guest mounts its first virtio disk (ext4, formatted on the host) at /data, runs the QEMU
guest agent and a writer workload whose output can be checked for consistency after a backup.
See :mod:`respaldo.guest.build` (``python -m respaldo.guest.build`` prints the ``args:`` value).
"""
