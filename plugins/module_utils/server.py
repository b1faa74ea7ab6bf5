# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Server configuration (the keys of `lxc config set` without an instance)."""

from __future__ import annotations

from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError, to_lxd_string
from ansible_collections.lxdops.server.plugins.module_utils.diff import SECRET_MASK, DifferenceTracker
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager

# LXD shows these back only as `true` (set) or not at all; their values are never echoed.
SECRET_KEYS = ("core.trust_password", "loki.auth.password", "candid.api.key", "rbac.agent.private_key",
               "maas.api.key", "oidc.client.secret")

# LXD does not store a server key set to its default: GET shows it absent. Comparing against these keeps a
# playbook that spells out a default idempotent.
SERVER_DEFAULTS = {
    "cluster.images_minimum_replica": "3",
    "cluster.max_standby": "2",
    "cluster.max_voters": "3",
    "cluster.offline_threshold": "20",
    "core.bgp_asn": "0",
    "core.trust_ca_certificates": "false",
    "images.auto_update_cached": "true",
    "images.auto_update_interval": "6",
    "images.compression_algorithm": "gzip",
    "images.remote_cache_expiry": "10",
}


def plan_server_config(current, desired, update_secrets=False):
    """Plan a PATCH of server config: returns (patch body config, DifferenceTracker)."""
    tracker = DifferenceTracker()
    patch = {}
    for key, value in desired.items():
        present = key in current and current[key] not in ("", None, False)
        if key in SECRET_KEYS:
            if value is None:
                if present:
                    patch[key] = ""
                    tracker.add(("config", key), SECRET_MASK, None)
            elif not present or update_secrets:
                patch[key] = value
                tracker.add(("config", key), SECRET_MASK if present else None, SECRET_MASK + " (new)")
            continue
        if value is None:
            if present:
                patch[key] = ""
                tracker.add(("config", key), current[key], None)
        elif current.get(key, SERVER_DEFAULTS.get(key)) != value:
            patch[key] = value
            tracker.add(("config", key), current.get(key), value)
    return patch, tracker


def masked(config):
    return dict((k, SECRET_MASK if k in SECRET_KEYS else v) for k, v in (config or {}).items())


def without_secrets(config):
    """The server config with the secret keys left out (for read-only reports)."""
    return dict((k, v) for k, v in (config or {}).items() if k not in SECRET_KEYS)


class ServerManager(Manager):
    def validate(self):
        desired = {}
        for key, raw in (self.params["config"] or {}).items():
            try:
                desired[str(key)] = to_lxd_string(raw)
            except ConfigError as exc:
                raise ConfigError("config key %r: value is not accepted; give %s" % (key, exc))
            if key in SECRET_KEYS and desired[key]:
                self.module.no_log_values.add(desired[key])
        self.desired = desired

    def apply(self):
        response = self.client.get("/1.0", project=False)
        current = response.metadata.get("config") or {}
        patch, tracker = plan_server_config(current, self.desired, self.params["update_secrets"])
        self.tracker.merge(tracker)
        if patch:
            self.write("update", self.client.patch, "/1.0", {"config": patch}, etag=response.etag, project=False)
            if not self.check_mode:
                current = self.client.get("/1.0", project=False).metadata.get("config") or {}
        self.result = {"config": masked(current)}
