# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Profiles: create, update (merge or replace), rename, delete (detaching when forced)."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlparse

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, api_path
from ansible_collections.lxdops.server.plugins.module_utils.config import (
    ConfigError,
    normalize_config,
    normalize_devices,
)
from ansible_collections.lxdops.server.plugins.module_utils.diff import plan_config, plan_devices, plan_value
from ansible_collections.lxdops.server.plugins.module_utils.instance import writable
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager, check_path_name


def check_profile_name(option, value):
    check_path_name(option, value, "profile")


def used_by_instances(used_by):
    """[(project, instance name)] from a profile's used_by urls."""
    result = []
    for url in used_by or []:
        parsed = urlparse(url)
        parts = parsed.path.split("/")
        if len(parts) >= 4 and parts[2] == "instances":
            project = parse_qs(parsed.query).get("project", ["default"])[0]
            result.append((project, unquote(parts[3])))
    return result


class ProfileManager(Manager):
    def validate(self):
        p = self.params
        check_profile_name("name", p["name"])
        if p["new_name"] is not None:
            check_profile_name("new_name", p["new_name"])
        self.config = normalize_config(p["config"], where="config")
        self.devices = normalize_devices(p["devices"], where="devices")
        self.replace = p["mode"] == "replace"
        if p["state"] == "absent" and "default" in (p["name"], p["new_name"]):
            raise ConfigError("the default profile cannot be deleted (LXD and Incus need it in every project)")

    def fetch(self, name):
        return self.fetch_with_etag(api_path("profiles", name))

    def apply(self):
        p = self.params
        name = p["name"]
        current = self.fetch(name)
        if p["state"] == "absent":
            if current is None and p["new_name"]:
                name, current = p["new_name"], self.fetch(p["new_name"])
            if current is not None:
                self.delete(name, current)
            self.result = {"profile": {}}
            return
        if p["new_name"] and p["new_name"] != name:
            if current is not None:
                if self.fetch(p["new_name"]) is not None:
                    raise LXDError("cannot rename profile %r to %r: a profile named %r exists already"
                                   % (name, p["new_name"], p["new_name"]))
                self.tracker.add(("name",), name, p["new_name"])
                self.write("rename", self.client.post, api_path("profiles", name), {"name": p["new_name"]})
                if not self.check_mode:
                    current = self.fetch(p["new_name"])
            else:
                current = self.fetch(p["new_name"])
            name = p["new_name"]
        if current is None:
            self.create(name)
        else:
            self.update(name, current)
        final = None if self.check_mode and current is None else (
            self.fetch(name) if self.actions and not self.check_mode else current)
        self.result = {"profile": _public(final)}

    def create(self, name):
        p = self.params
        body = {"name": name, "description": p["description"] or ""}
        body["config"] = dict((k, v) for k, v in (self.config or {}).items() if v is not None)
        body["devices"] = dict((k, v) for k, v in (self.devices or {}).items() if v is not None)
        self.tracker.add(("profile",), None, dict(body))
        self.write("create", self.client.post, "/1.0/profiles", body)

    def update(self, name, current):
        p = self.params
        config, config_changes = plan_config(current.get("config"), self.config, replace=self.replace)
        devices, device_changes = plan_devices(current.get("devices"), self.devices, replace=self.replace)
        self.tracker.merge(config_changes)
        self.tracker.merge(device_changes)
        description = plan_value(self.tracker, ("description",), current.get("description"), p["description"])
        if config_changes.has_changes or device_changes.has_changes or description != current.get("description"):
            body = {"config": config, "devices": devices, "description": description}
            self.write("update", self.client.put, api_path("profiles", name), body, etag=current.get("_etag"))

    def delete(self, name, current):
        users = used_by_instances(current.get("used_by"))
        if users and not self.params["force"]:
            raise LXDError("profile %r is used by %s; it is not deleted (set force=true to remove it from them "
                           "first)" % (name, ", ".join(_label(project, inst) for project, inst in users)))
        self.tracker.add(("profile",), {"name": name, "used_by": current.get("used_by") or []}, None)
        detached = []
        try:
            for project, instance in users:
                self.detach(name, project, instance, detached)
            self.write("delete", self.client.delete, api_path("profiles", name))
        except LXDError:
            self.reattach(detached)
            raise

    def detach(self, name, project, instance, detached):
        path = api_path("instances", instance)
        response = self.client.get(path, project=project)
        body = writable(response.metadata)
        before = list(body["profiles"])
        body["profiles"] = [prof for prof in before if prof != name]
        self.write("detach " + _label(project, instance), self.client.put, path, body, etag=response.etag,
                   project=project)
        detached.append((project, instance, path, body, before))

    def reattach(self, detached):
        for project, _instance, path, body, before in reversed(detached):
            try:
                self.client.put(path, dict(body, profiles=before), project=project)
            except LXDError:
                pass


def _label(project, instance):
    return instance if project == "default" else "%s (project %s)" % (instance, project)


def _public(profile):
    if not profile:
        return {}
    return dict((k, v) for k, v in profile.items() if not k.startswith("_"))
