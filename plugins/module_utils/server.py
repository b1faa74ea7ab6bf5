# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Server configuration (the keys of `lxc config set` without an instance)."""

from __future__ import annotations

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError
from ansible_collections.lxdops.server.plugins.module_utils.config import (
    SERVER_DEFAULTS,
    SERVER_KEYS_NOT_ON_INCUS,
    SERVER_SECRET_KEYS,
    ConfigError,
    to_lxd_string,
)
from ansible_collections.lxdops.server.plugins.module_utils.daemon import kind_from_server
from ansible_collections.lxdops.server.plugins.module_utils.diff import SECRET_MASK, DifferenceTracker
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager


def check_keys_for(kind, desired):
    """Refuse keys the daemon does not have (null, removing such a key, is nothing to do). Raises ConfigError."""
    if kind != "incus":
        return
    for key, value in sorted(desired.items()):
        if key in SERVER_KEYS_NOT_ON_INCUS and value is not None:
            raise ConfigError("config key %r does not exist on Incus; %s" % (key, SERVER_KEYS_NOT_ON_INCUS[key]))


def plan_server_config(current, desired, update_secrets=False):
    """Plan a PATCH of server config: returns (patch body config, DifferenceTracker)."""
    tracker = DifferenceTracker()
    patch = {}
    for key, value in desired.items():
        present = key in current and current[key] not in ("", None, False)
        if key in SERVER_SECRET_KEYS:
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
    return dict((k, SECRET_MASK if k in SERVER_SECRET_KEYS else v) for k, v in (config or {}).items())


def without_secrets(config):
    """The server config with the secret keys left out (for read-only reports)."""
    return dict((k, v) for k, v in (config or {}).items() if k not in SERVER_SECRET_KEYS)


def lost_keys(before, after):
    """Keys a refused update changed anyway (secrets left out: they are not shown back), with their old values."""
    return dict((k, v) for k, v in before.items() if k not in SERVER_SECRET_KEYS and after.get(k) != v)


class ServerManager(Manager):
    def validate(self):
        desired = {}
        for key, raw in (self.params["config"] or {}).items():
            try:
                desired[str(key)] = to_lxd_string(raw)
            except ConfigError as exc:
                raise ConfigError("config key %r: value is not accepted; give %s" % (key, exc))
            if key in SERVER_SECRET_KEYS and desired[key]:
                self.module.no_log_values.add(desired[key])
        self.desired = desired

    def apply(self):
        response = self.client.get("/1.0", project=False)
        check_keys_for(kind_from_server(response.metadata), self.desired)
        current = response.metadata.get("config") or {}
        patch, tracker = plan_server_config(current, self.desired, self.params["update_secrets"])
        self.tracker.merge(tracker)
        if patch:
            try:
                self.write("update", self.client.patch, "/1.0", {"config": patch}, etag=response.etag, project=False)
            except LXDError as exc:
                raise self.restored_after(exc, current)
            if not self.check_mode:
                current = self.client.get("/1.0", project=False).metadata.get("config") or {}
        self.result = {"config": masked(current)}

    def restored_after(self, exc, before):
        """The error of a refused update, once the server is as it was.

        Seen with Incus 6.0.4: a PATCH /1.0 it refuses (an unknown key) still drops core.https_address. What a
        refused update changed is set back, so a failed task leaves the server as it was.
        """
        after = self.client.get("/1.0", project=False).metadata.get("config") or {}
        lost = lost_keys(before, after)
        if not lost:
            return exc
        self.client.patch("/1.0", {"config": lost}, project=False)
        return LXDError("%s (the server dropped %s on the refused update; set back)"
                        % (exc.message, ", ".join(sorted(lost))), status_code=exc.status_code, error=exc.error)
