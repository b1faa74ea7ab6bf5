#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lxd_backup
short_description: Back up LXD and Incus instances and custom volumes to files and import them again
version_added: 0.1.0
description:
  - Create an instance backup on the server (with or without its snapshots, optimized where the pool allows it,
    compressed, with an expiry), export it to a file on the host the module runs on, list the instance's backups,
    delete one, keep only the newest N, and import a backup file as a new instance.
  - The same for a custom storage volume (O(pool) and O(volume) instead of O(instance)), such as the data volume a
    database keeps on a disk device; an instance backup holds its root disk only, not the custom volumes attached to
    it. Volume backups move between LXD and Incus (an export from LXD 5.0 imports into Incus 6.0).
  - Exports stream to a temporary file beside O(dest), renamed into place when complete, so O(dest) never holds
    half a backup. Imports stream the file; neither is held in memory, whatever its size.
  - Before an import the file is read through (decompressed) to its end, as LXD and Incus both import an uncompressed
    backup cut at a file boundary as a broken instance without an error, so a file cut short or damaged is refused
    here, before anything is sent. When an import fails on the server, what it may have made is removed.
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - lxdops.server.connection
  - lxdops.server.attributes
options:
  instance:
    description:
      - The instance whose backups are managed.
      - With O(state=imported), the name of the instance the backup file becomes (whatever name the backup holds).
      - One of O(instance) and O(volume) is required.
    type: str
  volume:
    description:
      - The custom storage volume, on O(pool), whose backups are managed. Mutually exclusive with O(instance).
      - With O(state=imported), the name of the volume the backup file becomes, on O(pool).
    type: str
  state:
    description:
      - V(present) creates the backup O(name) unless the instance (or volume) has one of that name; with O(dest)
        exports it to a file; with O(keep) then deletes its backups beyond the newest O(keep).
      - V(absent) deletes the backup O(name); with O(keep) (and no O(name)) deletes the backups beyond the newest
        O(keep).
      - V(listed) changes nothing and returns the instance's (or volume's) backups.
      - V(imported) imports the file O(source) as the instance O(instance). When an instance of that name exists,
        nothing is done and the task reports no change (an import never overwrites an instance; delete it first to
        restore over it, or import under another name). Imported under a name other than the one the backup
        holds, the instance is a copy, and its C(volatile.*.hwaddr) keys are removed, so it gets MAC addresses of its
        own when it starts (the original's would clash, and keep it from starting on Incus).
      - With O(volume), V(imported) imports the file as the volume O(volume) on O(pool), with the same rules (never
        over an existing volume). Attach it to an instance again through the instance's C(devices).
    type: str
    choices: [present, absent, listed, imported]
    default: present
  name:
    description:
      - Name of the backup on the server.
      - Without it, O(state=present) makes a new backup named C(backup-YYYYMMDD-HHMMSS) (UTC) on every run, so the
        task always reports a change.
    type: str
  instance_only:
    description:
      - Back up the instance without its snapshots. Instances only (O(volume_only) for a volume).
    type: bool
    default: false
  volume_only:
    description:
      - Back up the volume without its snapshots. Volumes only.
    type: bool
    default: false
  optimized_storage:
    description:
      - Ask for an optimized backup (the storage driver's own stream, faster and smaller, importable only into a pool of
        the same driver). Only btrfs and zfs pools make them; on other pools the module warns and makes a plain
        backup (the daemons would do so without a word).
    type: bool
    default: false
  compression_algorithm:
    description:
      - How the server compresses the backup (the command must exist on the server); V(none) for a plain tarball.
        Default the server's C(backups.compression_algorithm) (gzip unless set).
    type: str
    choices: [gzip, bzip2, xz, lzma, lz4, zstd, none]
  expires_at:
    description:
      - When the backup expires on the server (the daemon deletes it then), as an RFC 3339 time
        (V(2026-12-31T23:00:00Z)). Only used when the backup is made.
    type: str
  expiry:
    description:
      - When a new backup expires, relative to now, in the form of C(snapshots.expiry) (V(1d), V(2w), V(6H),
        V(1M 2H 3d)). Mutually exclusive with O(expires_at).
    type: str
  dest:
    description:
      - Export the backup to this file on the host the module runs on (written as mode 0600).
      - When the file exists with the size of the backup's export, it is taken as that export and not written again
        (decided by O(name) and size, as an export of the same backup has the same size).
      - Run the task on the LXD host for a copy there, or on the controller (C(delegate_to) localhost) with an https
        O(url) to fetch the backup to the controller.
    type: path
  keep:
    description:
      - How many of the instance's (or volume's) newest backups (by creation time) to keep on the server; older ones
        are deleted. Counts every backup of it, whatever its name. The backup O(name) of the task is never deleted.
    type: int
  source:
    description:
      - With O(state=imported), the backup file to import, on the host the module runs on.
    type: path
  pool:
    description:
      - With O(instance) and O(state=imported), the storage pool of the new instance. Default the pool the backup
        names, else the default profile's.
      - With O(volume), the pool of the volume (required), in every state; the pool a volume is imported to.
    type: str
notes:
  - The project of the backup, or of the imported instance or volume, is the connection option O(project).
  - Backups are files of the whole instance (and of its snapshots unless O(instance_only)); the server keeps them
    under its C(backups) folder (or C(storage.backups_volume)) until deleted or expired.
  - An import of a file compressed with lz4 or zstd is read through only when that tool is installed on the host
    the module runs on; otherwise the module warns and relies on the daemon, which refuses a cut compressed stream.
seealso:
  - module: lxdops.server.lxd_snapshot
  - module: lxdops.server.lxd_instance
"""

EXAMPLES = r"""
- name: A backup of db1 with its snapshots, kept a week on the server, exported on the LXD host
  lxdops.server.lxd_backup:
    instance: db1
    name: nightly-20261202
    expiry: 1w
    compression_algorithm: zstd
    dest: /srv/backups/db1/nightly-20261202.tar.zst
    keep: 3

- name: Fetch it to the controller (the module runs there and reaches the server over https)
  lxdops.server.lxd_backup:
    url: https://lxd1.example.net:8443
    server_cert: files/lxd1.crt
    instance: db1
    name: nightly-20261202
    dest: "{{ playbook_dir }}/backups/db1-nightly-20261202.tar.zst"
  delegate_to: localhost

- name: The backups db1 has on the server
  lxdops.server.lxd_backup:
    instance: db1
    state: listed
  register: db1_backups

- name: Keep only the two newest
  lxdops.server.lxd_backup:
    instance: db1
    state: absent
    keep: 2

- name: Bring db1 back from the file, as db1-restored, on the fast pool
  lxdops.server.lxd_backup:
    instance: db1-restored
    state: imported
    source: /srv/backups/db1/nightly-20261202.tar.zst
    pool: fast

- name: A backup of db1's data volume (an instance backup leaves it out), exported on the LXD host
  lxdops.server.lxd_backup:
    pool: default
    volume: db1-data
    name: nightly-20261202
    dest: /srv/backups/default/db1-data/nightly-20261202.tar.gz
    keep: 3

- name: Bring the volume back from the file (then db1's disk device finds it again)
  lxdops.server.lxd_backup:
    pool: default
    volume: db1-data
    state: imported
    source: /srv/backups/default/db1-data/nightly-20261202.tar.gz
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [create, export, delete backup-20261129-020000]
backups:
  description: The instance's (or volume's) backups on the server after the task, oldest first (not with
    O(state=imported)).
  returned: success and state is not imported
  type: list
  elements: dict
  contains:
    name:
      description: Backup name.
      type: str
      sample: nightly-20261202
    created_at:
      description: Creation time.
      type: str
      sample: "2026-12-02T02:00:00Z"
    expires_at:
      description: Expiry time, or null when it never expires.
      type: str
      sample: "2026-12-09T02:00:00Z"
    instance_only:
      description: Whether the snapshots are left out (instance backups).
      type: bool
      sample: false
    volume_only:
      description: Whether the snapshots are left out (volume backups).
      type: bool
      sample: false
    optimized_storage:
      description: Whether the backup holds the storage driver's own stream.
      type: bool
      sample: false
backup:
  description: The name of the backup the task made or found (O(state=present)).
  returned: state is present
  type: str
  sample: backup-20261202-020000
dest:
  description: The exported file (null when it did not exist in check mode).
  returned: O(dest) was given
  type: dict
  contains:
    path:
      description: The file.
      type: str
      sample: /srv/backups/db1/nightly-20261202.tar.zst
    size:
      description: Its size in bytes.
      type: int
      sample: 104857600
instance:
  description: The imported instance (or the one that already had that name).
  returned: state is imported and O(instance) was given
  type: dict
  contains:
    name:
      description: Instance name.
      type: str
      sample: db1-restored
    status:
      description: Its status (an imported instance is stopped).
      type: str
      sample: Stopped
    type:
      description: container or virtual-machine.
      type: str
      sample: container
    pool:
      description: The pool of its root disk.
      type: str
      sample: fast
    snapshots:
      description: Its snapshots.
      type: list
      elements: str
      sample: [daily-1]
volume:
  description: The imported volume (or the one that already had that name).
  returned: state is imported and O(volume) was given
  type: dict
  contains:
    name:
      description: Volume name.
      type: str
      sample: db1-data
    pool:
      description: Its pool.
      type: str
      sample: default
    content_type:
      description: filesystem or block.
      type: str
      sample: filesystem
    snapshots:
      description: Its snapshots.
      type: list
      elements: str
      sample: [snap0]
file:
  description: What the backup file holds, as read before the import.
  returned: state is imported and an import was needed
  type: dict
  sample:
    name: db1
    pool: default
    backend: zfs
    type: container
    optimized: false
    snapshots: [daily-1]
    compression: zstd
    checked: true
    size: 104857600
"""

from ansible_collections.lxdops.server.plugins.module_utils.backup import COMPRESSIONS, BackupManager
from ansible_collections.lxdops.server.plugins.module_utils.common import run_manager


def main():
    run_manager(
        BackupManager,
        dict(
            instance=dict(type="str"),
            volume=dict(type="str"),
            state=dict(type="str", choices=["present", "absent", "listed", "imported"], default="present"),
            name=dict(type="str"),
            instance_only=dict(type="bool", default=False),
            volume_only=dict(type="bool", default=False),
            optimized_storage=dict(type="bool", default=False),
            compression_algorithm=dict(type="str", choices=list(COMPRESSIONS)),
            expires_at=dict(type="str"),
            expiry=dict(type="str"),
            dest=dict(type="path"),
            keep=dict(type="int"),
            source=dict(type="path"),
            pool=dict(type="str"),
        ),
        mutually_exclusive=[("expires_at", "expiry"), ("instance", "volume")],
        required_one_of=[("instance", "volume")],
        required_by={"volume": ("pool",)},
    )


if __name__ == "__main__":
    main()
