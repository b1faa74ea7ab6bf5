#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lxd_volume
short_description: Manage custom storage volumes of LXD and Incus
version_added: 0.1.0
description:
  - Create, update, rename and delete custom storage volumes (filesystem or block) on a storage pool of LXD or
    Incus, in O(project).
  - Config keys are validated before any request; a key the collection does not know for custom volumes is refused
    (C(user.*) keys are free). Only the keys given are managed; a key set to V(null) is removed. Keys LXD fills in
    (C(volatile.*), the pool's C(volume.*) defaults) are left alone.
  - A volume's content type never changes; asking for that fails.
  - Attaching a volume to an instance or a profile is a C(disk) device of the instance or profile (C(pool),
    C(source) the volume's name, C(path) inside the instance); see the examples.
  - Volume snapshots are taken, restored and deleted with M(lxdops.server.lxd_snapshot) (O(pool) and C(volume));
    their schedule, name pattern and expiry are this module's config keys.
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - lxdops.server.connection
  - lxdops.server.attributes
  - lxdops.server.object
  - lxdops.server.state
options:
  name:
    description:
      - Name of the volume.
  pool:
    description:
      - The storage pool the volume lives on.
    type: str
    required: true
  content_type:
    description:
      - V(filesystem) (mounted into containers and VMs) or V(block) (a raw disk for VMs, or for containers with
        C(security.shared)). Used when the volume is created (default V(filesystem)); an existing volume of another
        content type fails the task.
    type: str
    choices: [filesystem, block]
  size:
    description:
      - Size or quota of the volume, with LXD's suffixes (V(10GiB), V(500MB)); the same as C(size) in O(config).
        Compared as a size, so V(1024MiB) equals V(1GiB). LXD refuses to shrink a block volume.
    type: str
  config:
    description:
      - Volume config keys. Accepted are V(size), V(snapshots.schedule) (cron or V(@daily)), V(snapshots.pattern),
        V(snapshots.expiry) (V(2w), V(1d 6H)), V(security.shifted), V(security.unmapped), V(security.shared),
        V(block.filesystem) (V(ext4), V(xfs), V(btrfs)), V(block.mount_options), V(initial.uid), V(initial.gid),
        V(initial.mode), the pool driver's own keys (V(zfs.blocksize), V(zfs.block_mode), V(zfs.delegate),
        V(zfs.remove_snapshots), V(zfs.reserve_space), V(zfs.use_refquota), V(lvm.stripes), V(lvm.stripes.size))
        and C(user.*). Values may be YAML scalars. A key set to V(null) is removed; keys not given are left alone.
  new_name:
    description:
      - Rename the volume O(name) to this (LXD refuses while a running instance uses it). When O(name) no longer
        exists and O(new_name) does, the rename is considered done; when neither exists, the volume is created as
        O(new_name).
    type: str
  force:
    description:
      - With O(state=absent), a volume that instances or profiles use is refused, naming them. With O(force=true)
        its C(disk) devices are first removed from the stopped instances and the profiles that attach it, then the
        volume is deleted. It is still refused, with nothing changed, while a running instance uses the volume.
        Should the delete fail, the devices are put back.
    type: bool
    default: false
seealso:
  - module: lxdops.server.lxd_snapshot
  - module: lxdops.server.lxd_backup
  - module: lxdops.server.lxd_instance
  - module: lxdops.server.lxd_storage
"""

EXAMPLES = r"""
- name: A 10 GiB data volume with nightly snapshots kept two weeks
  lxdops.server.lxd_volume:
    name: pgdata
    pool: default
    size: 10GiB
    config:
      snapshots.schedule: "@daily"
      snapshots.expiry: 2w
      snapshots.pattern: nightly%d

- name: Attach it to the database instance (a disk device; removing the device detaches it)
  lxdops.server.lxd_instance:
    name: db1
    source:
      alias: debian/12
    devices:
      pgdata:
        type: disk
        pool: default
        source: pgdata
        path: /var/lib/postgresql

- name: A block volume for a virtual machine
  lxdops.server.lxd_volume:
    name: vm-disk
    pool: default
    content_type: block
    size: 20GiB

- name: Snapshot the volume before an upgrade
  lxdops.server.lxd_snapshot:
    pool: default
    volume: pgdata
    name: before-upgrade

- name: Rename it
  lxdops.server.lxd_volume:
    name: pgdata
    new_name: pgdata-old
    pool: default

- name: Delete it, detaching it from stopped instances and profiles first
  lxdops.server.lxd_volume:
    name: pgdata-old
    pool: default
    state: absent
    force: true
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [detach from instance db1, delete]
volume:
  description: The volume as LXD shows it, with its pool; empty when absent or about to be created in check mode.
  returned: success
  type: dict
  contains:
    name:
      description: Volume name.
      type: str
      sample: pgdata
    pool:
      description: The pool it lives on.
      type: str
      sample: default
    content_type:
      description: V(filesystem) or V(block).
      type: str
      sample: filesystem
    config:
      description: Config keys, including those LXD fills in.
      type: dict
      sample: {"size": "10GiB", "snapshots.expiry": "2w"}
    description:
      description: Description.
      type: str
    used_by:
      description: API urls of the instances and profiles that use the volume.
      type: list
      elements: str
      sample: ["/1.0/instances/db1"]
"""

from ansible_collections.lxdops.server.plugins.module_utils.args import OBJECT_ARGUMENT_SPEC, STATE_ARGUMENT_SPEC, options
from ansible_collections.lxdops.server.plugins.module_utils.common import run_manager
from ansible_collections.lxdops.server.plugins.module_utils.volume import CONTENT_TYPES, VolumeManager


def main():
    run_manager(VolumeManager, options(
        OBJECT_ARGUMENT_SPEC, STATE_ARGUMENT_SPEC,
        pool=dict(type="str", required=True),
        content_type=dict(type="str", choices=list(CONTENT_TYPES)),
        size=dict(type="str"),
        new_name=dict(type="str"),
        force=dict(type="bool", default=False)))


if __name__ == "__main__":
    main()
