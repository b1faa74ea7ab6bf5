#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lxd_server
short_description: Manage LXD or Incus server configuration
version_added: 0.1.0
description:
  - Set and remove server config keys (what C(lxc config set <key> <value>) does without an instance), such as
    C(core.https_address), C(images.remote_cache_expiry), C(images.auto_update_interval),
    C(images.auto_update_cached), C(core.proxy_http), C(core.proxy_https), C(core.proxy_ignore_hosts).
  - Only the keys given are managed; a key set to V(null) is removed.
  - Secret keys (C(core.trust_password) and the like) are never shown back by LXD. They are set when unset
    (or on every run with O(update_secrets=true)) and their values never appear in output or diffs.
  - Works the same on Incus (C(incus config set)). Keys Incus does not have are refused before anything is
    written, naming what to use instead - C(core.trust_password) (Incus has no trust password; give clients a trust
    token from M(lxdops.server.lxd_trust)). Setting such a key to V(null) is nothing to do there.
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - lxdops.server.connection
  - lxdops.server.attributes
options:
  config:
    description:
      - Server config keys. Values may be YAML strings, numbers or booleans; they are sent as strings.
    type: dict
    required: true
  update_secrets:
    description:
      - Write secret keys even when the server already has a value for them (always reports a change for them).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Listen on the network and keep cached images for a day
  lxdops.server.lxd_server:
    config:
      core.https_address: "192.0.2.10:8443"
      images.remote_cache_expiry: 1
      images.auto_update_interval: 12
      images.auto_update_cached: false

- name: Stop using a proxy
  lxdops.server.lxd_server:
    config:
      core.proxy_http: null
      core.proxy_https: null
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [update]
config:
  description: The server config after the change; values of secret keys are masked.
  returned: success
  type: dict
  sample: {"core.https_address": "192.0.2.10:8443", "core.trust_password": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}
"""

from ansible_collections.lxdops.server.plugins.module_utils.common import run_manager
from ansible_collections.lxdops.server.plugins.module_utils.server import ServerManager


def main():
    run_manager(ServerManager, dict(
        config=dict(type="dict", required=True, no_log=False),
        update_secrets=dict(type="bool", default=False, no_log=False)))


if __name__ == "__main__":
    main()
