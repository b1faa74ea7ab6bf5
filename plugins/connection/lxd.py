# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: lxd
short_description: Run tasks in LXD or Incus instances through the daemon's REST API
version_added: 0.1.0
description:
  - Runs commands in an LXD or Incus instance with the API's exec (over websockets) and moves files with its
    files API, on the local unix socket or over https. Both daemons serve the same API; nothing says which one.
  - Needs no C(lxc) or C(incus) command and no configured CLI remote; the same connection options as the modules,
    usually set by the P(lxdops.server.lxd#inventory) plugin as host and group variables.
  - Commands run as root in the instance; use C(become) (with C(sudo) or C(su) in the instance) for other users.
author:
  - lxdops developers (@lxdops)
notes:
  - Pipelines modules by default (O(pipelining)).
options:
  instance:
    description:
      - Name of the instance. Defaults to the inventory host name (V(ansible_host) when set, which is also what a
        C(delegate_to) task reaches).
    type: str
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: lxd_name
      - name: ansible_lxd_instance
  url:
    description:
      - The LXD or Incus server, V(unix:/path/to/unix.socket) or V(https://host:port). Defaults as for the modules
        (E(LXD_URL), E(LXD_DIR), E(INCUS_SOCKET), E(INCUS_DIR), then LXD's and Incus's default sockets).
    type: str
    env:
      - name: LXD_URL
    vars:
      - name: ansible_lxd_url
  client_cert:
    description:
      - Client certificate for https (default V(client.crt) of the first of V(~/.config/lxc),
        V(~/snap/lxd/common/config) and V(~/.config/incus) that holds one).
    type: path
    vars:
      - name: ansible_lxd_client_cert
  client_key:
    description:
      - Key of O(client_cert) (default V(client.key) beside the default O(client_cert)).
    type: path
    vars:
      - name: ansible_lxd_client_key
  server_cert:
    description:
      - Server certificate to pin (path or PEM).
    type: str
    vars:
      - name: ansible_lxd_server_cert
  verify:
    description:
      - Verify the server's TLS certificate; V(false) is an explicit opt-out.
    type: bool
    default: true
    vars:
      - name: ansible_lxd_verify
  project:
    description:
      - Project of the instance.
    type: str
    default: default
    vars:
      - name: lxd_project
      - name: ansible_lxd_project
  timeout:
    description:
      - Seconds for each API request.
      - Ansible gives its own connection timeout here (C(--timeout), C(ansible_timeout); 10 by default) unless
        C(ansible_lxd_timeout) is set.
    type: int
    default: 60
    vars:
      - name: ansible_lxd_timeout
  exec_timeout:
    description:
      - The most seconds one command may run in the instance (one task's module, or a C(raw) command).
      - A command still running then is sent SIGKILL and the task fails saying so.
    type: int
    default: 3600
    vars:
      - name: ansible_lxd_exec_timeout
  pipelining:
    description:
      - Send each module to the command that runs it on standard input, in one exec request, instead of writing it
        to a temporary folder in the instance first (a folder made, a file written, the folder removed - more
        requests per task).
      - On by default, unlike Ansible's own default - an exec of the daemon has no tty that C(sudo) could require.
    type: bool
    default: true
    env:
      - name: ANSIBLE_PIPELINING
    ini:
      - section: defaults
        key: pipelining
      - section: connection
        key: pipelining
    vars:
      - name: ansible_pipelining
      - name: ansible_lxd_pipelining
  executable:
    description:
      - Shell that runs the commands Ansible sends.
    type: str
    default: /bin/sh
    vars:
      - name: ansible_executable
"""

import os

from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

from ansible_collections.lxdops.server.plugins.module_utils.client import (
    CLIENT_OPTIONS,
    LXDError,
    LXDNotFound,
    LXDTimeout,
    api_path,
    client_from_options,
)

display = Display()


class Connection(ConnectionBase):
    """Tasks in LXD or Incus instances over the REST API."""

    transport = "lxdops.server.lxd"
    has_pipelining = True
    default_user = "root"

    def __init__(self, *args, **kwargs):
        super(Connection, self).__init__(*args, **kwargs)
        self._client = None
        self._instance = None

    def _connect(self):
        if self._connected:
            return self
        self._instance = self.get_option("instance")
        try:
            self._client = client_from_options(dict(
                (name, self.get_option(name)) for name in CLIENT_OPTIONS if self.has_option(name)))
            status = self._client.get(api_path("instances", self._instance)).metadata["status"]
        except LXDNotFound:
            raise AnsibleConnectionFailure("instance %r does not exist on %s (project %s)"
                                           % (self._instance, self._client.url, self._client.project))
        except LXDError as exc:
            raise AnsibleConnectionFailure(exc.message)
        if status != "Running":
            raise AnsibleConnectionFailure("instance %r on %s is %s: start it before running tasks in it"
                                           % (self._instance, self._client.url, status))
        display.vvv("API connection to %s on %s" % (self._instance, self._client.url), host=self._instance)
        self._connected = True
        return self

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        self._connect()
        command = [self.get_option("executable"), "-c", to_text(cmd, errors="surrogate_or_strict")]
        display.vvv("EXEC %s" % to_text(cmd), host=self._instance)
        try:
            return self._client.execute(self._instance, command, stdin=to_bytes(in_data or b""),
                                        timeout=self.get_option("exec_timeout"))
        except LXDTimeout as exc:
            # The instance answered; the command was too slow: the task fails, the host stays reachable.
            raise AnsibleError("exec in %s failed: %s" % (self._instance, exc.message))
        except LXDError as exc:
            raise AnsibleConnectionFailure("exec in %s failed: %s" % (self._instance, exc.message))

    def put_file(self, in_path, out_path):
        super(Connection, self).put_file(in_path, out_path)
        self._connect()
        display.vvv("PUT %s TO %s" % (in_path, out_path), host=self._instance)
        if not os.path.isfile(to_bytes(in_path, errors="surrogate_or_strict")):
            raise AnsibleFileNotFound("file or module does not exist: %s" % in_path)
        try:
            with open(to_bytes(in_path, errors="surrogate_or_strict"), "rb") as source:
                self._client.push_file(self._instance, out_path, source, os.fstat(source.fileno()).st_size)
        except LXDError as exc:
            raise AnsibleConnectionFailure("copying %s to %s:%s failed: %s" % (in_path, self._instance, out_path,
                                                                               exc.message))

    def fetch_file(self, in_path, out_path):
        super(Connection, self).fetch_file(in_path, out_path)
        self._connect()
        display.vvv("FETCH %s TO %s" % (in_path, out_path), host=self._instance)
        try:
            with open(to_bytes(out_path, errors="surrogate_or_strict"), "wb") as sink:
                self._client.pull_file(self._instance, in_path, sink)
        except LXDNotFound:
            raise AnsibleFileNotFound("%s does not exist in %s" % (in_path, self._instance))
        except LXDError as exc:
            raise AnsibleConnectionFailure("fetching %s:%s failed: %s" % (self._instance, in_path, exc.message))

    def reset(self):
        self.close()

    def close(self):
        if self._client is not None:
            self._client.close()
        self._connected = False
