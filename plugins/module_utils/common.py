# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What every module of the collection shares: connection options and the client they build."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, client_from_options

# Documented once, in doc_fragments/connection.py.
CONNECTION_ARGUMENT_SPEC = dict(
    url=dict(type="str", fallback=(env_fallback, ["LXD_URL"])),
    client_cert=dict(type="path", aliases=["cert_file"]),
    client_key=dict(type="path", aliases=["key_file"], no_log=False),
    server_cert=dict(type="str"),
    verify=dict(type="bool", default=True, aliases=["validate_certs"]),
    trust_token=dict(type="str", no_log=True),
    trust_password=dict(type="str", no_log=True),
    project=dict(type="str", default="default"),
    timeout=dict(type="int", default=60),
)

CONNECTION_OPTIONS = tuple(CONNECTION_ARGUMENT_SPEC)


def argument_spec(**module_options):
    """The module's own options plus the shared connection options."""
    spec = dict(CONNECTION_ARGUMENT_SPEC)
    spec.update(module_options)
    return spec


# The modules' name for the one way to build a client (client.client_from_options).
client_from_params = client_from_options


class LXDModule(AnsibleModule):
    """AnsibleModule with the connection options, a lazily built client and LXD-aware failure."""

    def __init__(self, module_options, **kwargs):
        kwargs.setdefault("supports_check_mode", True)
        self.given = frozenset()
        super(LXDModule, self).__init__(argument_spec=argument_spec(**module_options), **kwargs)
        self._client = None

    def _load_params(self):
        super(LXDModule, self)._load_params()
        # Options the task spelled out, so `option: null` (remove) differs from an option left out.
        self.given = frozenset(k for k in self.params if not k.startswith("_ansible_"))

    @property
    def client(self):
        if self._client is None:
            try:
                self._client = client_from_params(self.params)
            except LXDError as exc:
                self.fail_json(msg=exc.message)
        return self._client

    def fail_lxd(self, exc, **result):
        """Fail with an LXDError's message (and whatever partial result the caller has)."""
        self.fail_json(msg=exc.message, **result)


def run_manager(manager, module_options, **module_kwargs):
    """A module's main(): its own options (plus the connection options) checked by Ansible, then its manager runs."""
    manager(LXDModule(module_options, **module_kwargs)).run()


def remote_argument_spec():
    """The connection options again, as suboptions for a second server (a replica target, a peer)."""
    spec = {}
    for name, option in CONNECTION_ARGUMENT_SPEC.items():
        option = dict(option)
        option.pop("fallback", None)
        spec[name] = option
    spec["url"]["required"] = True
    return spec
