#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lxd_limits
short_description: Set CPU, memory, disk and network limits of an LXD instance or profile
version_added: 0.1.0
description:
  - Typed options for LXD's resource limits, validated before any request, applied live to a running instance.
  - Only the limits given are managed. A limit set to V(null) is removed.
  - O(disk_size), O(disk_read) and O(disk_write) go to the root disk device (O(disk_device)). When an instance
    takes that device from a profile, the device is copied into the instance with the new keys (what
    C(lxc config device override) does), so the profile is not changed.
  - O(network_ingress) and O(network_egress) go to the nic device O(nic), overridden the same way.
  - For an instance, returns its current usage too, as C(lxc info) shows it.
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - lxdops.server.connection
  - lxdops.server.attributes
options:
  instance:
    description:
      - The instance to limit. Exactly one of O(instance) and O(profile) is required.
    type: str
  profile:
    description:
      - The profile to limit (every instance using it gets the limits).
    type: str
  cpu:
    description:
      - C(limits.cpu) - a CPU count (V(2)), a list (V(1,3)), ranges (V(0-3,7-11)) or one pinned CPU (V(0-0)).
    type: raw
  cpu_allowance:
    description:
      - C(limits.cpu.allowance) - a share of CPU time (V(20%)) or a time slice (V(25ms/200ms)).
    type: str
  cpu_priority:
    description:
      - C(limits.cpu.priority) - 0 to 10.
    type: int
  memory:
    description:
      - C(limits.memory) - a size with LXD's suffixes (V(256MB), V(2GiB)) or a share of the host's memory (V(10%)).
    type: str
  memory_enforce:
    description:
      - C(limits.memory.enforce).
    type: str
    choices: [hard, soft]
  memory_swap:
    description:
      - C(limits.memory.swap) - whether the instance may swap.
    type: bool
  memory_swap_priority:
    description:
      - C(limits.memory.swap.priority) - 0 to 10.
    type: int
  processes:
    description:
      - C(limits.processes) - the most processes the instance may run.
    type: int
  disk_size:
    description:
      - C(size) of the root disk device - its quota (V(10GiB)); enforced by pools that have quotas (btrfs, zfs, lvm).
    type: str
  disk_read:
    description:
      - C(limits.read) of the root disk device - bytes (V(30MB)) or operations (V(20iops)) per second.
    type: str
  disk_write:
    description:
      - C(limits.write) of the root disk device - bytes (V(30MB)) or operations (V(20iops)) per second.
    type: str
  disk_priority:
    description:
      - C(limits.disk.priority) - 0 to 10.
    type: int
  network_ingress:
    description:
      - C(limits.ingress) of the nic O(nic) - a bit rate (V(100Mbit)).
    type: str
  network_egress:
    description:
      - C(limits.egress) of the nic O(nic) - a bit rate (V(100Mbit)).
    type: str
  network_priority:
    description:
      - C(limits.network.priority) - 0 to 10.
      - Incus has no such key; against a server that lists its keys without it, the task fails before any change.
    type: int
  disk_device:
    description:
      - Name of the disk device that O(disk_size), O(disk_read) and O(disk_write) apply to.
    type: str
    default: root
  nic:
    description:
      - Name of the nic device that O(network_ingress) and O(network_egress) apply to.
    type: str
    default: eth0
seealso:
  - module: lxdops.server.lxd_instance
"""

EXAMPLES = r"""
- name: Two CPUs, 2 GiB hard, a 20 GiB root disk and 100 Mbit/s each way
  lxdops.server.lxd_limits:
    instance: web1
    cpu: 2
    memory: 2GiB
    memory_enforce: hard
    disk_size: 20GiB
    network_ingress: 100Mbit
    network_egress: 100Mbit

- name: Lift the memory limit
  lxdops.server.lxd_limits:
    instance: web1
    memory: null

- name: Limits for every instance of a profile
  lxdops.server.lxd_limits:
    profile: small
    cpu: 1
    memory: 512MB
    processes: 500
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [update]
limits:
  description: Every limit option with the value in force (after profiles, for an instance); null when unset.
  returned: success
  type: dict
  sample: {"cpu": "2", "memory": "2GiB", "memory_enforce": "hard", "disk_size": "20GiB", "network_ingress": "100Mbit"}
usage:
  description: Current usage of the instance, as C(lxc info) shows it (bytes, and CPU time in seconds).
  returned: success, for an instance
  type: dict
  contains:
    memory:
      description: Memory in use, in bytes.
      type: int
    memory_peak:
      description: Peak memory, in bytes.
      type: int
    swap:
      description: Swap in use, in bytes.
      type: int
    swap_peak:
      description: Peak swap, in bytes.
      type: int
    cpu_seconds:
      description: CPU time used.
      type: float
    processes:
      description: Number of processes.
      type: int
    disk:
      description: Bytes used per disk device (where the pool reports it).
      type: dict
      sample: {"root": 1187840}
    network:
      description: Per interface, bytes and packets received and sent.
      type: dict
      sample: {"eth0": {"bytes_received": 710, "bytes_sent": 954, "packets_received": 2, "packets_sent": 5}}
"""

from ansible_collections.lxdops.server.plugins.module_utils.common import run_manager
from ansible_collections.lxdops.server.plugins.module_utils.limits import LimitsManager, limit_options


def main():
    run_manager(
        LimitsManager,
        dict(instance=dict(type="str"), profile=dict(type="str"), **limit_options()),
        mutually_exclusive=[("instance", "profile")],
        required_one_of=[("instance", "profile")],
    )


if __name__ == "__main__":
    main()
