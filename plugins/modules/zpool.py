#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: zpool
short_description: Create a ZFS pool for LXD or Incus, and never destroy one
version_added: 0.1.0
description:
  - Creates a ZFS pool from devices with a layout, ashift and properties, when no pool of that name exists.
  - An existing pool is never destroyed nor re-created; its properties are converged with C(zpool set) and
    C(zfs set), and its health is reported.
  - Before creating, every device is checked - one that holds partitions, a filesystem or another pool's label is
    refused, unless O(force=true).
  - In check mode on a host where ZFS is not installed yet (an earlier task of the same run would install it), the
    pool is reported as to be created, with a warning.
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - lxdops.server.attributes
options:
  name:
    description:
      - Name of the pool.
    type: str
    required: true
  devices:
    description:
      - Devices of the pool (V(/dev/disk/by-id/...) is safest; files work for tests).
      - Used to create the pool; for an existing pool they are only compared, and a difference is reported.
    type: list
    elements: path
    required: true
  layout:
    description:
      - V(single) takes one device; V(mirror) two or more; V(raidz) (single parity), V(raidz2) and V(raidz3)
        take 2, 3 and 4 devices at least.
    type: str
    choices: [single, mirror, raidz, raidz1, raidz2, raidz3]
    default: single
  ashift:
    description:
      - Sector size exponent (V(12) for 4K-sector disks). Only used when creating.
    type: int
  properties:
    description:
      - Pool properties (C(zpool create -o), C(zpool set)), such as V(autotrim).
    type: dict
    default: {}
  filesystem_properties:
    description:
      - Properties of the pool's root dataset (C(zpool create -O), C(zfs set)), such as V(compression=lz4),
        V(atime=off). Booleans become V(on) and V(off).
    type: dict
    default: {}
  force:
    description:
      - Use devices that hold partitions, a filesystem or another pool's label (their data is lost).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: A mirrored pool for LXD or Incus
  lxdops.server.zpool:
    name: tank
    devices:
      - /dev/disk/by-id/ata-DISK1
      - /dev/disk/by-id/ata-DISK2
    layout: mirror
    ashift: 12
    filesystem_properties:
      compression: lz4
      atime: false
"""

RETURN = r"""
pool:
  description: The pool after the task.
  returned: success
  type: dict
  contains:
    name:
      description: Name.
      type: str
    health:
      description: Health as C(zpool status) prints it.
      type: str
      sample: ONLINE
    devices:
      description: Devices with their state.
      type: list
      elements: dict
    properties:
      description: Pool properties.
      type: dict
    created:
      description: Whether this task created the pool.
      type: bool
commands:
  description: The zpool and zfs commands run (or that would run in check mode).
  returned: always
  type: list
  elements: list
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError
from ansible_collections.lxdops.server.plugins.module_utils.zpool import (
    create_command,
    device_verdict,
    parse_properties,
    parse_property_table,
    parse_status,
    property_changes,
    validate_pool,
)


def run(module, argv, check_rc=True):
    rc, out, err = module.run_command(argv)
    if check_rc and rc != 0:
        module.fail_json(msg="%s failed (%d): %s" % (" ".join(argv), rc, (err or out).strip()), cmd=argv)
    return rc, out, err


def get_properties(module, tool, name):
    """Properties of a pool or dataset; older ZFS (zfs-fuse) has no scripted -H -p -o output."""
    rc, out, _err = run(module, [tool, "get", "-H", "-p", "-o", "property,value", "all", name], check_rc=False)
    if rc == 0:
        return parse_properties(out)
    return parse_property_table(run(module, [tool, "get", "all", name])[1])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            devices=dict(type="list", elements="path", required=True),
            layout=dict(type="str", default="single",
                        choices=["single", "mirror", "raidz", "raidz1", "raidz2", "raidz3"]),
            ashift=dict(type="int"),
            properties=dict(type="dict", default={}),
            filesystem_properties=dict(type="dict", default={}),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        validate_pool(p["name"], p["devices"], p["layout"], p["ashift"])
    except ConfigError as exc:
        module.fail_json(msg=str(exc))
    # In check mode ZFS may still be to be installed by an earlier task: then there is no pool yet either.
    zpool = module.get_bin_path("zpool", required=not module.check_mode)
    zfs = module.get_bin_path("zfs", required=not module.check_mode)
    commands, diff = [], {"before": {}, "after": {}}
    if zpool:
        exists = run(module, [zpool, "list", "-H", "-o", "name", p["name"]], check_rc=False)[0] == 0
    else:
        module.warn("zpool is not installed here yet: pool %s would be created once ZFS is" % p["name"])
        exists = False
    created = False
    if not exists:
        for device in p["devices"]:
            if not os.path.exists(device):
                module.fail_json(msg="devices: %s does not exist" % device)
            if p["force"]:
                continue
            blkid = module.get_bin_path("blkid")
            blkid_out = run(module, [blkid, "-p", "-o", "export", device], check_rc=False)[1] if blkid else ""
            children = []
            lsblk = module.get_bin_path("lsblk")
            if lsblk and not os.path.isfile(device):
                children = run(module, [lsblk, "-n", "-r", "-o", "NAME", device], check_rc=False)[1].split()[1:]
            verdict = device_verdict(blkid_out, children)
            if verdict:
                module.fail_json(msg="devices: %s %s; not creating pool %s over it (force=true would destroy it)"
                                 % (device, verdict, p["name"]))
        argv = create_command(p["name"], p["devices"], p["layout"], p["ashift"], p["properties"],
                              p["filesystem_properties"], False)
        argv[0] = zpool or "zpool"
        commands.append(argv)
        diff["after"] = {"pool": p["name"], "layout": p["layout"], "devices": p["devices"]}
        if not module.check_mode:
            run(module, argv)
        created = True
    else:
        pool_props = get_properties(module, zpool, p["name"])
        fs_props = get_properties(module, zfs, p["name"])
        for tool, current, wanted in ((zpool, pool_props, p["properties"]), (zfs, fs_props,
                                                                             p["filesystem_properties"])):
            for key, (before, after) in sorted(property_changes(current, wanted).items()):
                argv = [tool, "set", "%s=%s" % (key, after), p["name"]]
                commands.append(argv)
                diff["before"][key] = before
                diff["after"][key] = after
                if not module.check_mode:
                    run(module, argv)
    result = {"name": p["name"], "created": created}
    if not (module.check_mode and created):
        status = parse_status(run(module, [zpool, "status", p["name"]])[1])
        result.update(status)
        result["properties"] = get_properties(module, zpool, p["name"])
        listed = set(d["path"] for d in status["devices"])
        if exists and listed and listed != set(p["devices"]):
            module.warn("pool %s has devices %s, not the %s given; it is left as it is"
                        % (p["name"], ", ".join(sorted(listed)), ", ".join(p["devices"])))
    module.exit_json(changed=bool(commands), pool=result, commands=commands, diff=diff)


if __name__ == "__main__":
    main()
