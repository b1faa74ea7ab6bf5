# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Option blocks several modules take, as argument spec pieces (no I/O, no Ansible import: managers use them too)."""

from __future__ import annotations

import copy

# Each block is documented once, in the doc fragment of the same name
# (doc_fragments/state.py, doc_fragments/object.py); tests/unit/plugins/modules/test_documentation.py keeps
# every module's spec and docs in step and makes a module that takes a block use its fragment.
STATE_ARGUMENT_SPEC = dict(
    state=dict(type="str", choices=["present", "absent"], default="present"),
)

# A named object of the server (network, pool, profile, project, instance, volume ...): its name, description, config.
OBJECT_ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    description=dict(type="str"),
    config=dict(type="dict"),
)

SHARED_BLOCKS = {
    "state": STATE_ARGUMENT_SPEC,
    "object": OBJECT_ARGUMENT_SPEC,
}


def options(*blocks, **module_options):
    """A module's options (without the connection options): shared blocks, then its own (which may add to them)."""
    spec = {}
    for block in blocks:
        spec.update(copy.deepcopy(block))
    spec.update(module_options)
    return spec
