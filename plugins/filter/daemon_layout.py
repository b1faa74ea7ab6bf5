# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: daemon_layout
short_description: Where LXD or Incus lives on a host, and what its tools are called
version_added: 0.1.0
description:
  - Takes the daemon a host runs (the host variable C(lxdops_daemon), V(lxd) or V(incus)) and gives what roles
    and playbooks need to know of it on that host, so that no role keeps its own copy.
  - LXD is Debian's package on Debian and the snap elsewhere; Incus has one layout on every system.
author:
  - lxdops developers (@lxdops)
options:
  _input:
    description: The daemon, V(lxd) or V(incus).
    type: str
    required: true
  facts:
    description: The host's C(ansible_facts) (only C(distribution) is read); LXD's layout depends on it.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: The daemon's socket on this host
  ansible.builtin.debug:
    msg: "{{ (lxdops_daemon | default('lxd') | lxdops.server.daemon_layout(ansible_facts)).url }}"
"""

RETURN = r"""
_value:
  description:
    - C(kind) (V(lxd) or V(incus)), C(name) (V(LXD) or V(Incus)), C(install_method) (V(apt), V(snap) or
      V(package)), C(dir), C(socket), C(url), C(server_cert), C(service), C(socket_unit), C(startup_service) (the unit
      that autostarts instances at boot), C(log_dir), C(cli) (V(lxc) or V(incus)), C(cli_config_dir) (relative to
      the user's home), C(admin_group), C(dir_env) and C(socket_env) (the variables that point a client at it),
      C(cli_conf_env) (the variable that points the CLI at another configuration folder, V(LXD_CONF) or
      V(INCUS_CONF)), C(bridge) (the name its own init gives the default bridge, V(lxdbr0) or V(incusbr0)),
      C(https_port) (the API's default port) and C(waitready) (the command, as a list, that waits until the daemon
      has started; add C(--timeout=N)).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.lxdops.server.plugins.module_utils.daemon import DaemonError, layout


def daemon_layout(kind, facts=None):
    try:
        return layout(kind, (facts or {}).get("distribution"))
    except DaemonError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {"daemon_layout": daemon_layout}
