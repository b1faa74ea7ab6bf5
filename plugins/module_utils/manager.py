# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The part every manager shares: one place for check mode, diff and the result."""

from __future__ import annotations

import re

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, LXDNotFound
from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError
from ansible_collections.lxdops.server.plugins.module_utils.diff import DifferenceTracker

# LXD's rule for instance, profile and most object names (hostname-like).
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$")


def check_name(option, value, what="instance"):
    """Raise ConfigError unless value is a valid LXD object name."""
    if not isinstance(value, str) or not _NAME_RE.match(value) or value.endswith("-"):
        raise ConfigError("%s %r is not a valid %s name: 1-63 letters, digits and hyphens, starting with a "
                          "letter and not ending with a hyphen" % (option, value, what))


def check_path_name(option, value, what):
    """Raise ConfigError unless value can stand as one segment of an API path (profile, snapshot, backup names)."""
    if not value or "/" in value or value in (".", "..") or value != value.strip():
        raise ConfigError("%s %r is not a valid %s name: it must be non-empty, without '/' or surrounding spaces, "
                          "and not '.' or '..'" % (option, value, what))


class Manager:
    """Subclasses implement validate() (no I/O) and apply() (reads, then writes through self.write())."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.tracker = DifferenceTracker()
        self.actions = []
        self.result = {}
        try:
            self.validate()
        except ConfigError as exc:
            module.fail_json(msg=str(exc))

    @property
    def client(self):
        return self.module.client

    def validate(self):
        """Check the parameters before any request; raise ConfigError."""

    def apply(self):
        raise NotImplementedError

    def fetch_with_etag(self, path, **kwargs):
        """The object at path with its ETag under "_etag" (for the update's If-Match), or None when there is none."""
        try:
            response = self.client.get(path, **kwargs)
        except LXDNotFound:
            return None
        return dict(response.metadata, _etag=response.etag)

    def write(self, action, func, *args, **kwargs):
        """Perform an action (not in check mode) and record it once done."""
        result = None if self.check_mode else func(*args, **kwargs)
        self.actions.append(action)
        return result

    @property
    def changed(self):
        return bool(self.actions)

    def run(self):
        try:
            self.apply()
        except LXDError as exc:
            self.module.fail_json(msg=exc.message, changed=self.changed, actions=self.actions)
        except ConfigError as exc:
            self.module.fail_json(msg=str(exc), changed=self.changed, actions=self.actions)
        result = dict(self.result, changed=self.changed, actions=self.actions)
        if self.module._diff:
            result["diff"] = self.tracker.diff()
        self.module.exit_json(**result)
