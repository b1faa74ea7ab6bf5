# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Replicas of the custom volumes an instance uses, copied and refreshed before the instance itself.

Used by replica.Replicator. Rules kept here:
- the volumes are the custom volumes among the instance's expanded disk devices (its own and its profiles');
- each goes to the pool of the same name on the target, with its snapshots unless instance_only, its config and
  description (no volatile keys); the target pulls it from the source, as it pulls the instance;
- a volume that a running instance uses on the target is never overwritten, nor one the target has that is
  neither a replica (user.lxdops.replica) nor used by this instance's copy there;
- the copy's config is what replica.volume_config makes of the source's (the replica marks, the schedule);
- transport() chooses how a volume travels, by API extension: a migration the target pulls, or (LXD to an Incus
  that would crash receiving a migrated volume) a volume backup streamed through a temporary file on this host.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import threading

from ansible_collections.lxdops.server.plugins.module_utils.backup import VolumeTarget, export_to_file, import_file
from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, api_path
from ansible_collections.lxdops.server.plugins.module_utils.config import VOLUME_DRIVER_KEYS, is_volatile
from ansible_collections.lxdops.server.plugins.module_utils.volume import attached_volumes, split_users, volume_path

REFRESH_EXTENSION = "custom_volume_refresh"
# An Incus that receives a custom volume from LXD (which does not send the volume's size in the migration
# header) crashes unless it has the fix that came with this extension (Incus 6.0.5 and 6.13; seen with 6.0.4).
INCUS_SAFE_FROM_LXD_EXTENSION = "custom_volume_sftp"


MIGRATION = "migration"
BACKUP = "backup"
# The name a refreshed volume's new backup is imported under on the target, before it refreshes the replica.
INCOMING_SUFFIX = "-lxdops-incoming"


def transport(source_kind, target_kind, target_extensions):
    """How custom volumes travel from this source to the target: MIGRATION, or BACKUP for an Incus that would
    crash receiving a migrated volume from LXD (a volume backup from LXD imports into it whole). Pure."""
    if source_kind == "lxd" and target_kind == "incus" and INCUS_SAFE_FROM_LXD_EXTENSION not in target_extensions:
        return BACKUP
    return MIGRATION


def in_project(client, project):
    """The client, or a copy of it on its own connection for another (already checked) project."""
    if project == client.project:
        return client
    other = copy.copy(client)
    other._conn = None  # pylint: disable=protected-access
    other.project = project
    other._project_checked = True  # pylint: disable=protected-access
    return other


class VolumeBlocked(LXDError):
    """A volume of the instance is not to be overwritten on the target: the instance is left alone, not failed."""


def instance_volumes(instance):
    """[(pool, volume)] of the custom volumes an instance uses (its expanded devices), each once, sorted. Pure."""
    devices = instance.get("expanded_devices")
    if devices is None:
        devices = instance.get("devices")
    return sorted(set((pool, name) for _device, pool, name in attached_volumes(devices)))


def for_driver(config, driver):
    """The config without the keys of other storage drivers than the target pool's (it would refuse them). Pure."""
    return dict((k, v) for k, v in config.items()
                if k.split(".", 1)[0] not in VOLUME_DRIVER_KEYS or k.split(".", 1)[0] == driver)


def pull_source(operation_url, certificate, secrets, **fields):
    """The `source` of a copy the target pulls from the source's migration operation (instances and volumes). Pure."""
    source = {"type": "migration", "mode": "pull", "operation": operation_url, "certificate": certificate,
              "secrets": secrets}
    source.update(fields)
    return source


def volume_body(source_volume, config, operation_url, certificate, secrets, volume_only, refresh):
    """The POST /1.0/storage-pools/<pool>/volumes/custom body that makes the target pull the volume. Pure."""
    return {
        "name": source_volume["name"],
        "type": "custom",
        "content_type": source_volume.get("content_type") or "filesystem",
        "config": config,
        "description": source_volume.get("description") or "",
        "source": pull_source(operation_url, certificate, secrets, volume_only=bool(volume_only),
                              refresh=bool(refresh)),
    }


def volume_result(pool, name, action, reason=None):
    return {"pool": pool, "name": name, "action": action, "reason": reason}


class VolumeReplicator:
    """Copies or refreshes an instance's volumes; one per replication run, shared by its workers.

    A volume several instances use is replicated once per run: the first instance that needs it does it.
    make_config(source config): the copy's config; marker: the config key a replica volume carries.
    """

    def __init__(self, make_config, marker, volume_only=False):
        self.make_config = make_config
        self.marker = marker
        self.volume_only = volume_only
        self.lock = threading.Lock()
        self.done = {}
        self.volume_locks = {}

    def _volume_lock(self, key):
        with self.lock:
            return self.volume_locks.setdefault(key, threading.Lock())

    @staticmethod
    def plan(target, instance, target_project):
        """[volume result] of what a run would do (check mode): created or refreshed."""
        results = []
        for pool, name in instance_volumes(instance):
            present = target.exists(volume_path(pool, name), project=target_project)
            results.append(volume_result(pool, name, "refreshed" if present else "created", "check mode"))
        return results

    def replicate(self, source, target, instance, source_project, target_project, url, certificate, results):
        """Copy or refresh every volume of the instance on the target, appending a result for each to `results`.

        Raises VolumeBlocked when one must not be overwritten, LXDError (naming the volume) when one fails: the
        instance is then not copied.
        """
        volumes = instance_volumes(instance)
        how = MIGRATION
        if volumes:
            how = transport(source.daemon_kind(), target.daemon_kind(),
                            target.server_info().get("api_extensions") or [])
        pools = {}
        # Every pool first: a volume whose pool is missing fails the instance before anything is transferred.
        for pool, name in volumes:
            if pool not in pools:
                pools[pool] = target.exists(api_path("storage-pools", pool), project=False)
            if pools[pool] is None:
                message = "volume %s/%s: the target server has no storage pool %r; create it there first" % (
                    pool, name, pool)
                results.append(volume_result(pool, name, "failed", message))
                raise LXDError(message)
        for pool, name in volumes:
            key = (source_project, target_project, pool, name)
            with self._volume_lock(key):
                if key in self.done:
                    results.append(volume_result(pool, name, self.done[key][0], "done for %s in this run"
                                                 % self.done[key][1]))
                    continue
                try:
                    action = self._replicate_one(source, target, instance, pool, name, pools[pool], source_project,
                                                 target_project, url, certificate, how)
                except VolumeBlocked as exc:
                    results.append(volume_result(pool, name, "skipped", exc.message))
                    raise
                except LXDError as exc:
                    results.append(volume_result(pool, name, "failed", exc.message))
                    raise LXDError("volume %s/%s: %s" % (pool, name, exc.message), status_code=exc.status_code,
                                   error=exc.error)
                self.done[key] = (action, instance["name"])
                results.append(volume_result(pool, name, action))

    def _replicate_one(self, source, target, instance, pool, name, target_pool, source_project, target_project, url,
                       certificate, how=MIGRATION):
        source_volume = source.get(volume_path(pool, name), project=source_project).metadata
        current = target.exists(volume_path(pool, name), project=target_project)
        if current is not None:
            self._check_overwrite(target, instance["name"], pool, name, current, target_project)
            if not target.has_extension(REFRESH_EXTENSION):
                raise LXDError("the target server lacks the API extension %s: an existing volume cannot be "
                               "refreshed" % REFRESH_EXTENSION)
        config = for_driver(self.make_config(source_volume.get("config")), target_pool.get("driver"))
        if how == BACKUP:
            self._through_backup(in_project(source, source_project), in_project(target, target_project), pool, name,
                                 source_volume, config, current is not None)
        else:
            self._migrate(source, target, pool, name, source_volume, config, source_project, target_project, url,
                          certificate, current is not None)
        # A refresh keeps the copy's config and description: they follow the source's here.
        self._set_config(target, pool, name, config, source_volume.get("description") or "", target_project)
        return "refreshed" if current is not None else "created"

    def _migrate(self, source, target, pool, name, source_volume, config, source_project, target_project, url,
                 certificate, refresh):
        migration = source.request("POST", volume_path(pool, name), project=source_project,
                                   body={"name": name, "migration": True, "volume_only": bool(self.volume_only)},
                                   wait=False)
        secrets = (migration.metadata or {}).get("metadata") or {}
        body = volume_body(source_volume, config, url + migration.operation, certificate, secrets,
                           self.volume_only, refresh)
        sent = False
        try:
            target.request("POST", volume_path(pool), body=body,
                           project=target_project, timeout=max(target.timeout, 3600))
            sent = True
        finally:
            # Seen with Incus 6.0.4 on a dir pool: the source's operation of a volume the target has received whole
            # goes on running for minutes; once the target has it, it is not waited for long.
            try:
                source.wait_operation(migration.operation, what="sending volume %s/%s" % (pool, name),
                                      timeout=5 if sent else 60)
            except LXDError:
                pass

    @staticmethod
    def _set_config(target, pool, name, config, description, target_project):
        response = target.get(volume_path(pool, name), project=target_project)
        current = response.metadata
        wanted = dict((k, v) for k, v in (current.get("config") or {}).items() if is_volatile(k))
        wanted.update(config)
        if wanted != (current.get("config") or {}) or description != (current.get("description") or ""):
            target.put(volume_path(pool, name), {"config": wanted, "description": description},
                       etag=response.etag, project=target_project)

    def _through_backup(self, source, target, pool, name, source_volume, config, refresh):
        """Export the volume (with its snapshots unless volume_only) into a temporary file here and import it on
        the target (clients already in their projects). A new volume is imported under its name. A refresh
        imports under a temporary name, refreshes the replica from it on the target (a local copy, allowed
        while the replica's stopped instance uses it) and deletes it: the old replica stays whole until the
        new data is on the target."""
        incoming = name + INCOMING_SUFFIX if refresh else name
        if refresh:
            self._drop_incoming(target, pool, incoming)
        workdir = tempfile.mkdtemp(prefix="lxdops-volume-")
        try:
            path = os.path.join(workdir, "backup")
            export_to_file(source, VolumeTarget(pool, name), path, only=self.volume_only)
            import_file(target, VolumeTarget(pool, incoming), path)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        if not refresh:
            return
        try:
            # The marks at once: the incoming volume takes no scheduled snapshot and is known as ours.
            self._set_config(target, pool, incoming, config, source_volume.get("description") or "", True)
            target.post(volume_path(pool), {
                "name": name, "type": "custom", "content_type": source_volume.get("content_type") or "filesystem",
                "config": config, "description": source_volume.get("description") or "",
                "source": {"type": "copy", "pool": pool, "name": incoming, "volume_only": bool(self.volume_only),
                           "refresh": True}})
        finally:
            target.delete(volume_path(pool, incoming))

    def _drop_incoming(self, target, pool, incoming):
        """Delete what a failed refresh left under the temporary name; anything else of that name is refused."""
        current = target.exists(volume_path(pool, incoming))
        if current is None:
            return
        if not (current.get("config") or {}).get(self.marker) or split_users(current.get("used_by"))[0]:
            raise VolumeBlocked("volume %s/%s exists on the target server and is not the replica's leftover "
                                "incoming copy; it is never overwritten" % (pool, incoming))
        target.delete(volume_path(pool, incoming))

    def _check_overwrite(self, target, instance_name, pool, name, current, target_project):
        users = split_users(current.get("used_by"))[0]
        for project, user in users:
            state = target.exists(api_path("instances", user), project=project)
            if state is not None and state.get("status") != "Stopped":
                raise VolumeBlocked("volume %s/%s is used by %s, which is %s on the target server; it is never "
                                    "overwritten while in use" % (pool, name, user, state.get("status")))
        ours = (current.get("config") or {}).get(self.marker) or (target_project, instance_name) in users
        if not ours:
            raise VolumeBlocked("volume %s/%s exists on the target server and is neither a replica (%s) nor used "
                                "by the copy of %s there; it is never overwritten"
                                % (pool, name, self.marker, instance_name))
