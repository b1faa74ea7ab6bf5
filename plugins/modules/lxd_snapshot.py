#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lxd_snapshot
short_description: Manage snapshots of LXD and Incus instances and custom volumes
version_added: 0.1.0
description:
  - Take, expire, rename, restore and delete snapshots of an instance, or of a custom storage volume (O(pool) and
    O(volume) instead of O(instance)).
  - It only ever addresses C(/1.0/instances/<instance>/snapshots/<name>) (or
    C(/1.0/storage-pools/<pool>/volumes/custom/<volume>/snapshots/<name>)) with a non-empty O(name), and restores
    through the instance's (or volume's) restore field. No input deletes or alters the instance or volume itself (a
    mistyped C(lxc delete c/snap) deletes the container; this module cannot).
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - lxdops.server.connection
  - lxdops.server.attributes
options:
  instance:
    description:
      - The instance the snapshot belongs to (a name, not V(instance/snapshot)).
      - One of O(instance) and O(volume) is required.
    type: str
  volume:
    description:
      - The custom storage volume the snapshot belongs to, on O(pool). Mutually exclusive with O(instance).
      - Its C(snapshots.schedule), C(snapshots.pattern) and C(snapshots.expiry) are set with
        M(lxdops.server.lxd_volume).
    type: str
  pool:
    description:
      - The storage pool of O(volume). Required with O(volume).
    type: str
  name:
    description:
      - Name of the snapshot.
      - Without it, O(state=present) takes a new snapshot named by the owner's C(snapshots.pattern) on every
        run (what C(lxc snapshot <instance>) does), so the task always reports a change.
        For a volume, LXD 5.0 names it C(snap0), C(snap1) ... whatever the volume's C(snapshots.pattern); Incus
        follows the pattern.
      - Required for O(state=absent) and O(state=restored).
    type: str
  state:
    description:
      - V(present) takes the snapshot when it does not exist (and sets O(expires_at) on an existing one).
      - V(absent) deletes it.
      - V(restored) restores the instance (or volume) to it; this always reports a change, as a restore always
        rewrites the data. A volume that a running instance uses is not restored (LXD refuses it, and nothing changes);
        stop the instance first.
    type: str
    choices: [present, absent, restored]
    default: present
  stateful:
    description:
      - Include the running state (memory); needs CRIU on the server. Instances only.
    type: bool
    default: false
  expires_at:
    description:
      - When the snapshot expires, as an RFC 3339 time (V(2026-12-31T23:00:00Z)). Managed on existing snapshots too.
    type: str
  expiry:
    description:
      - When a new snapshot expires, relative to its creation, in LXD's C(snapshots.expiry) form (V(1d), V(2w),
        V(6H), V(1M 2H 3d); S seconds, M minutes, H hours, d days, w weeks, m months, y years; each unit once).
        Computed as LXD computes it (one month after January 31 is March 3). An empty string means the snapshot
        never expires, whatever the owner's C(snapshots.expiry). Only used when the snapshot is taken.
      - Mutually exclusive with O(expires_at).
    type: str
  new_name:
    description:
      - Rename the snapshot O(name) to this. When O(name) no longer exists and O(new_name) does, the rename is
        considered done.
    type: str
  restart:
    description:
      - With O(state=restored) on a running instance, stop it, restore, and start it again (the safe order).
      - V(false) restores the running instance directly.
      - Instances only; refused with O(volume).
    type: bool
    default: true
  force_stop:
    description:
      - With O(restart=true), stop the instance forcibly instead of asking it to shut down. Instances only.
    type: bool
    default: false
seealso:
  - module: lxdops.server.lxd_instance
"""

EXAMPLES = r"""
- name: A snapshot before an upgrade, kept two weeks
  lxdops.server.lxd_snapshot:
    instance: web1
    name: before-upgrade
    expiry: 2w

- name: Roll back (stop, restore, start)
  lxdops.server.lxd_snapshot:
    instance: web1
    name: before-upgrade
    state: restored

- name: A snapshot named by the instance's snapshots.pattern
  lxdops.server.lxd_snapshot:
    instance: web1

- name: Delete it
  lxdops.server.lxd_snapshot:
    instance: web1
    name: before-upgrade
    state: absent

- name: A snapshot of a custom volume, kept a week
  lxdops.server.lxd_snapshot:
    pool: default
    volume: pgdata
    name: before-migration
    expiry: 1w

- name: Restore the volume (its instances stopped)
  lxdops.server.lxd_snapshot:
    pool: default
    volume: pgdata
    name: before-migration
    state: restored
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [stop, restore, start]
snapshots:
  description: The instance's (or volume's) snapshots after the task.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Snapshot name.
      type: str
      sample: before-upgrade
    created_at:
      description: Creation time.
      type: str
      sample: "2026-11-29T20:00:00.123456Z"
    expires_at:
      description: Expiry time, or null when it never expires.
      type: str
      sample: "2026-12-13T20:00:00Z"
    stateful:
      description: Whether the running state is included (always false for a volume).
      type: bool
      sample: false
"""

from ansible_collections.lxdops.server.plugins.module_utils.common import run_manager
from ansible_collections.lxdops.server.plugins.module_utils.snapshot import SnapshotManager


def main():
    run_manager(
        SnapshotManager,
        dict(
            instance=dict(type="str"),
            volume=dict(type="str"),
            pool=dict(type="str"),
            name=dict(type="str"),
            state=dict(type="str", choices=["present", "absent", "restored"], default="present"),
            stateful=dict(type="bool", default=False),
            expires_at=dict(type="str"),
            expiry=dict(type="str"),
            new_name=dict(type="str"),
            restart=dict(type="bool", default=True),
            force_stop=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("expires_at", "expiry"), ("instance", "volume")],
        required_one_of=[("instance", "volume")],
        required_together=[("volume", "pool")],
    )


if __name__ == "__main__":
    main()
