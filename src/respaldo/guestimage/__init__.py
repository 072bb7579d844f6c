"""respaldo's minimal Linux test/demo guest: a Debian kernel plus a busybox initramfs.

The guest mounts its first virtio disk (ext4, formatted on the host) at /data, runs the QEMU
guest agent and a writer workload whose output can be checked for consistency after a backup.
See :mod:`respaldo.guestimage.build` (``python -m respaldo.guestimage.build`` prints the
``args:`` value). Named apart from the backup of one VM (``services/vzdump/guest.py``).
"""
