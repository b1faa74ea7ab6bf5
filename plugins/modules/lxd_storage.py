#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lxd_storage
short_description: Manage LXD and Incus storage pools
version_added: 0.1.0
description:
  - Create, update and delete storage pools of LXD or Incus with the V(dir), V(btrfs), V(zfs), V(lvm) and V(ceph) drivers.
  - Driver options are validated before any request; keys of another driver are refused.
  - Only the config keys given are managed; a key set to V(null) is removed. LXD's own keys
    (C(volatile.*)) and the keys LXD fills in (a loop file's C(source)) are left alone.
  - The driver and the source of an existing pool never change; asking for that fails.
  - Deleting a pool that anything uses (instances, profiles, volumes, images) is refused, naming the users.
  - On a cluster, a new pool is created the way LXD wants it there - defined on every member with that member's own
    keys (V(source), V(size), V(zfs.pool_name), V(lvm.vg_name), V(lvm.thinpool_name)), then created cluster-wide
    with the other keys. O(source), O(size) and those keys in O(config) apply to every member unless
    O(member_config) gives a member its own. An existing pool's member-specific keys are not compared.
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
      - Name of the pool.
  driver:
    description:
      - Storage driver. Required to create a pool.
    type: str
    choices: [dir, btrfs, zfs, lvm, ceph]
  source:
    description:
      - Where the pool lives. V(dir) - a directory. V(btrfs) - a directory or block device. V(zfs) - a zpool or
        dataset (V(tank/lxd)) or a block device. V(lvm) - a volume group or block device. V(ceph) - an OSD pool.
      - Without it, V(btrfs), V(zfs) and V(lvm) pools live in a loop file of O(size).
    type: str
  size:
    description:
      - Size of a loop-file pool (V(30GiB)). Compared as a size, so V(2048MiB) equals V(2GiB).
    type: str
  config:
    description:
      - Driver config keys (V(zfs.pool_name), V(lvm.vg_name), V(lvm.use_thinpool), V(ceph.osd.pg_num),
        V(btrfs.mount_options), V(volume.size) ...). Values may be YAML scalars. A key set to V(null) is removed;
        keys not given are left alone.
  member_config:
    description:
      - On a cluster, member-specific keys per member, by member name (for example V(lxd2) with V(source=/dev/sdc)),
        used when the pool is created. Only member-specific keys are accepted; a name that is not a member is refused.
      - Fails on a server that is not clustered.
    type: dict
seealso:
  - module: lxdops.server.lxd_instance
"""

EXAMPLES = r"""
- name: The manual's ZFS pool, on the zpool the zfs_storage role built
  lxdops.server.lxd_storage:
    name: default
    driver: zfs
    source: tank/lxd

- name: A btrfs pool in a 30 GiB loop file
  lxdops.server.lxd_storage:
    name: fast
    driver: btrfs
    size: 30GiB

- name: An LVM thin pool on a volume group
  lxdops.server.lxd_storage:
    name: lvm
    driver: lvm
    source: vg0
    config:
      lvm.thinpool_name: LXDThinPool

- name: On a cluster, a ZFS pool on each member's own disk
  lxdops.server.lxd_storage:
    name: local
    driver: zfs
    source: /dev/sdb
    member_config:
      lxd3:
        source: /dev/nvme1n1

- name: Remove a pool nobody uses
  lxdops.server.lxd_storage:
    name: old
    state: absent
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [create]
pool:
  description: The pool as LXD shows it; empty when absent or about to be created in check mode.
  returned: success
  type: dict
  contains:
    driver:
      description: Driver.
      type: str
      sample: btrfs
    config:
      description: Config keys, including those LXD fills in.
      type: dict
      sample: {"size": "30GiB", "source": "/var/lib/lxd/disks/fast.img"}
    used_by:
      description: API urls of what uses the pool.
      type: list
      elements: str
    status:
      description: Pool status.
      type: str
      sample: Created
"""

from ansible_collections.lxdops.server.plugins.module_utils.args import OBJECT_ARGUMENT_SPEC, STATE_ARGUMENT_SPEC, options
from ansible_collections.lxdops.server.plugins.module_utils.common import run_manager
from ansible_collections.lxdops.server.plugins.module_utils.storage import DRIVERS, StorageManager


def main():
    run_manager(StorageManager, options(
        OBJECT_ARGUMENT_SPEC, STATE_ARGUMENT_SPEC,
        driver=dict(type="str", choices=list(DRIVERS)),
        source=dict(type="str"),
        size=dict(type="str"),
        member_config=dict(type="dict")))


if __name__ == "__main__":
    main()
