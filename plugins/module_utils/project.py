# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Projects: create, update (config merged, null removes a key), delete only when empty. Never `default`."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlparse

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, api_path
from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError, parse_bytes, to_lxd_string
from ansible_collections.lxdops.server.plugins.module_utils.diff import plan_config, plan_value
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager

# Characters LXD refuses in project names (it names storage paths after them, joined with '_').
_NAME_FORBIDDEN = ("/", " ", "_", "'", '"')


def check_project_name(option, value):
    if (not isinstance(value, str) or not value or value in (".", "..", "*") or value != value.strip()
            or any(char in value for char in _NAME_FORBIDDEN)):
        raise ConfigError("%s %r is not a valid project name: it must be non-empty, without '/', spaces, '_' or "
                          "quotes, and not '.', '..' or '*'" % (option, value))


def _is_uint(value):
    return bool(re.match(r"^\d+$", value))


def _is_size(value):
    try:
        parse_bytes(value)
    except ValueError:
        return False
    return True


def _one_of(*choices):
    return (lambda value: value in choices), " or ".join(choices)


_UINT = (_is_uint, "a whole number (0 or more)")
_SIZE = (_is_size, "a size with LXD's suffixes (10GiB, 500MB)")
_ALLOW_BLOCK = _one_of("block", "allow")
_BOOL = _one_of("true", "false")

# Values LXD checks when a project is written; refused here first. Other keys (user.*, images.*, backups.*,
# restricted.* lists such as restricted.networks.uplinks) pass through: LXD is the judge of those.
PROJECT_KEYS = {
    "restricted": _BOOL,
    "limits.instances": _UINT,
    "limits.containers": _UINT,
    "limits.virtual-machines": _UINT,
    "limits.networks": _UINT,
    "limits.processes": _UINT,
    "limits.cpu": _UINT,
    "limits.memory": _SIZE,
    "limits.disk": _SIZE,
    "restricted.backups": _ALLOW_BLOCK,
    "restricted.snapshots": _ALLOW_BLOCK,
    "restricted.cluster.target": _ALLOW_BLOCK,
    "restricted.containers.nesting": _ALLOW_BLOCK,
    "restricted.containers.lowlevel": _ALLOW_BLOCK,
    "restricted.containers.interception": _one_of("block", "allow", "full"),
    "restricted.containers.privilege": _one_of("unprivileged", "isolated", "allow"),
    "restricted.virtual-machines.lowlevel": _ALLOW_BLOCK,
    "restricted.devices.disk": _one_of("block", "allow", "managed"),
    "restricted.devices.nic": _one_of("block", "allow", "managed"),
    "restricted.devices.gpu": _ALLOW_BLOCK,
    "restricted.devices.infiniband": _ALLOW_BLOCK,
    "restricted.devices.pci": _ALLOW_BLOCK,
    "restricted.devices.proxy": _ALLOW_BLOCK,
    "restricted.devices.unix-block": _ALLOW_BLOCK,
    "restricted.devices.unix-char": _ALLOW_BLOCK,
    "restricted.devices.unix-hotplug": _ALLOW_BLOCK,
    "restricted.devices.usb": _ALLOW_BLOCK,
}


# Keys a daemon takes only with an API extension (LXD 5.0.2 has none of these, Incus 6.0 all): refused before
# anything is written, naming what the server lacks. A trailing dot is a prefix (limits.disk.pool.<pool>).
EXTENSION_KEYS = (
    ("features.networks.zones", "projects_networks_zones"),
    ("features.storage.buckets", "storage_buckets"),
    ("limits.disk.pool.", "projects_limits_disk_pool"),
)

# Keys named after an object, checked by their prefix.
PREFIX_KEYS = {"limits.disk.pool.": _SIZE}


def needed_extensions(config):
    """[(key, API extension)] for the keys of `config` being set that need an extension."""
    needed = []
    for key, value in sorted((config or {}).items()):
        if value is None or value == "":
            continue
        for pattern, extension in EXTENSION_KEYS:
            if key == pattern or (pattern.endswith(".") and key.startswith(pattern)):
                needed.append((key, extension))
    return needed


def _known(key):
    if key in PROJECT_KEYS:
        return PROJECT_KEYS[key]
    for prefix, known in PREFIX_KEYS.items():
        if key.startswith(prefix) and len(key) > len(prefix):
            return known
    return (None, None)


def _show(value):
    return repr(value) if isinstance(value, str) else str(value)


def normalize_project_config(config, where="config"):
    """Validate a project's config from the user; return {key: LXD string, or None to remove it}."""
    if config is None:
        return None
    normalized = {}
    for key, raw in config.items():
        key = str(key)
        try:
            value = to_lxd_string(raw)
        except ConfigError as exc:
            raise ConfigError("%s key %r: value %s is not accepted; give %s" % (where, key, _show(raw), exc))
        if key.startswith("features."):
            # LXD reads yes/on/1 too and stores them as written; true/false alone keeps runs comparable.
            check, forms = _BOOL
        else:
            check, forms = _known(key)
        # An empty string is LXD's "unset", like null.
        if value and check and not check(value):
            raise ConfigError("%s key %r: value %s is not accepted; accepted: %s" % (where, key, _show(raw), forms))
        normalized[key] = value
    return normalized


def blocking_users(name, used_by):
    """What keeps a project from being deleted: everything in used_by but its own default profile."""
    blocking = []
    for url in used_by or []:
        parsed = urlparse(url)
        project = parse_qs(parsed.query).get("project", ["default"])[0]
        if unquote(parsed.path) == "/1.0/profiles/default" and project == name:
            continue
        blocking.append(url)
    return blocking


def public(project):
    if not project:
        return {}
    return dict((k, v) for k, v in project.items() if not k.startswith("_"))


class ProjectManager(Manager):
    def validate(self):
        p = self.params
        check_project_name("name", p["name"])
        self.config = normalize_project_config(p["config"])
        if p["state"] == "absent" and p["name"] == "default":
            raise ConfigError("the default project cannot be deleted (LXD and Incus keep it on every server)")

    def path(self):
        return api_path("projects", self.params["name"])

    def fetch(self):
        return self.fetch_with_etag(self.path(), project=False)

    def apply(self):
        p = self.params
        current = self.fetch()
        if p["state"] == "absent":
            if current is not None:
                self.delete(current)
            self.result = {"project": {}}
            return
        self.check_extensions()
        if current is None:
            self.create()
        else:
            self.update(current)
        if current is None and self.check_mode:
            final = None
        elif self.actions and not self.check_mode:
            final = self.fetch()
        else:
            final = current
        self.result = {"project": public(final)}

    def check_extensions(self):
        """Refuse keys this daemon does not know, before writing (asks GET /1.0 only when such keys are given)."""
        missing = [(key, ext) for key, ext in needed_extensions(self.config) if not self.client.has_extension(ext)]
        if missing:
            raise ConfigError("%s at %s does not take %s: %s" % (
                self.client.daemon_name(), self.client.url, "these keys" if len(missing) > 1 else "config key",
                "; ".join("%r needs the API extension %s" % pair for pair in missing)))

    def create(self):
        p = self.params
        body = {"name": p["name"], "description": p["description"] or "",
                "config": dict((k, v) for k, v in (self.config or {}).items() if v is not None)}
        self.tracker.add(("project",), None, dict(body))
        self.write("create", self.client.post, "/1.0/projects", body, project=False)

    def update(self, current):
        config, changes = plan_config(current.get("config"), self.config)
        self.tracker.merge(changes)
        description = plan_value(self.tracker, ("description",), current.get("description"),
                                 self.params["description"])
        if changes.has_changes or description != current.get("description"):
            self.write("update", self.client.put, self.path(), {"config": config, "description": description},
                       etag=current.get("_etag"), project=False)

    def delete(self, current):
        name = self.params["name"]
        blocking = blocking_users(name, current.get("used_by"))
        if blocking:
            shown = ", ".join(blocking[:10]) + (" and %d more" % (len(blocking) - 10) if len(blocking) > 10 else "")
            raise LXDError("project %r is in use (%s); it is not deleted: delete or move what is in it first"
                           % (name, shown))
        self.tracker.add(("project",), {"name": name, "description": current.get("description", ""),
                                        "config": current.get("config") or {}}, None)
        self.write("delete", self.client.delete, self.path(), project=False)
