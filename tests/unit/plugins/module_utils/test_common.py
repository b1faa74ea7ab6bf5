# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The shared connection argument spec and its doc fragment say the same thing."""

from __future__ import annotations

import yaml

from ansible_collections.lxdops.server.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.lxdops.server.plugins.module_utils.client import CLIENT_OPTIONS, client_from_options
from ansible_collections.lxdops.server.plugins.module_utils.common import (
    CONNECTION_ARGUMENT_SPEC,
    argument_spec,
    client_from_params,
)

DOC_OPTIONS = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]


def test_same_option_names():
    assert set(DOC_OPTIONS) == set(CONNECTION_ARGUMENT_SPEC)


def test_same_types_defaults_aliases():
    for name, spec in CONNECTION_ARGUMENT_SPEC.items():
        doc = DOC_OPTIONS[name]
        assert doc.get("type", "str") == spec.get("type", "str"), name
        assert doc.get("default") == spec.get("default"), name
        assert sorted(doc.get("aliases", [])) == sorted(spec.get("aliases", [])), name


def test_secrets_are_no_log():
    for name in ("trust_token", "trust_password"):
        assert CONNECTION_ARGUMENT_SPEC[name]["no_log"] is True


def test_module_options_are_added_without_touching_the_shared_dict():
    spec = argument_spec(name=dict(type="str", required=True))
    assert "name" in spec and "url" in spec
    assert "name" not in CONNECTION_ARGUMENT_SPEC


def test_the_client_takes_every_connection_option():
    assert set(CLIENT_OPTIONS) == set(CONNECTION_ARGUMENT_SPEC)
    assert client_from_params is client_from_options


def test_options_left_out_or_null_take_the_defaults():
    client = client_from_options({"url": "unix:/nowhere.socket", "verify": None, "project": None, "timeout": None,
                                  "name": "ignored"})
    assert (client.url, client.verify, client.project, client.timeout) == ("unix:/nowhere.socket", True, "default", 60)
