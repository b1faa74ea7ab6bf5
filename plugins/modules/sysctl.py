#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sysctl
short_description: Apply kernel parameters now, and report those the kernel will not let this host set
version_added: 0.1.0
description:
  - Writes each key's value to C(/proc/sys) when it differs, then reads it back to verify it.
  - Keys that are read-only here (a host that is itself a container cannot set most non-namespaced keys) or
    missing are left alone and listed in RV(unsettable), not failed.
  - Persisting the values (a C(/etc/sysctl.d) drop-in) is the caller's job; the C(lxdops.server.lxd_host) role
    writes one.
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - lxdops.server.attributes
options:
  settings:
    description:
      - Keys (dotted, as C(sysctl) names them) and their values.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Production values for an LXD or Incus host
  lxdops.server.sysctl:
    settings:
      fs.inotify.max_user_instances: 1048576
      vm.max_map_count: 262144
  register: applied

- name: What the kernel kept
  ansible.builtin.debug:
    var: applied.unsettable
"""

RETURN = r"""
changed_keys:
  description: Keys written (or that would be written in check mode).
  returned: always
  type: list
  elements: str
  sample: [vm.max_map_count]
unsettable:
  description:
    - Keys not set here, with the reason.
    - Not named C(skipped), which Ansible would read as the task itself having been skipped.
  returned: always
  type: dict
  sample: {"kernel.dmesg_restrict": "read-only here (Read-only file system)"}
values:
  description: The value of each readable key after the task.
  returned: always
  type: dict
  sample: {"vm.max_map_count": "262144"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lxdops.server.plugins.module_utils.sysctl import apply, key_path, normalize_value


def main():
    module = AnsibleModule(argument_spec=dict(settings=dict(type="dict", required=True)), supports_check_mode=True)
    settings = module.params["settings"]
    for key, value in settings.items():
        try:
            key_path(key)
        except ValueError as exc:
            module.fail_json(msg="settings: %s (give dotted names such as vm.max_map_count)" % exc)
        if value is None or isinstance(value, (dict, list)):
            module.fail_json(msg="settings: key %r has value %r; give a number or a string" % (key, value))
    result = apply(settings, check_mode=module.check_mode)
    diff = {"before": dict((k, result["values"].get(k)) for k in result["changed"]),
            "after": dict((k, normalize_value(settings[k])) for k in result["changed"])}
    module.exit_json(changed=bool(result["changed"]), changed_keys=result["changed"], unsettable=result["unsettable"],
                     values=result["values"], diff=diff)


if __name__ == "__main__":
    main()
