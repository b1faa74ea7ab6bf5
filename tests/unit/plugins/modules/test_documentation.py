# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every module's argument spec is what its documentation says; shared option blocks come from their fragments;
the `actions` return value reads the same everywhere.

Modules are found by listing plugins/modules, so a new module is checked without being named here. The docs are
read as ansible-doc reads them (statically, with the collection's doc fragments merged in); the spec is the one
main() hands to AnsibleModule.
"""

from __future__ import annotations

import importlib
import os
from unittest import mock

import pytest
import yaml
from ansible.module_utils import basic
from ansible.utils.plugin_docs import get_docstring

from ansible_collections.lxdops.server.plugins.module_utils.args import SHARED_BLOCKS

COLLECTION = "lxdops.server"
PACKAGE = "ansible_collections.lxdops.server.plugins"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
MODULES_DIR = os.path.join(ROOT, "plugins", "modules")
MODULES = sorted(f[:-3] for f in os.listdir(MODULES_DIR) if f.endswith(".py") and not f.startswith("_"))

# How `actions` is documented wherever a module returns it (top level or per result); only the sample is the
# module's own.
ACTIONS_RETURN = {
    "description": "What was done (or would be done in check mode), in order.",
    "type": "list",
    "elements": "str",
}


class _Fragments:
    """The part of Ansible's fragment loader get_docstring uses, for this collection's doc_fragments."""

    @staticmethod
    def get(name):
        prefix = COLLECTION + "."
        if not name.startswith(prefix):
            return None
        try:
            module = importlib.import_module(PACKAGE + ".doc_fragments." + name[len(prefix):])
        except ImportError:
            return None
        fragment = module.ModuleDocFragment
        fragment.ansible_name = name
        return fragment


class _Spec(Exception):
    pass


def module_spec(name):
    """The argument spec (and the other AnsibleModule arguments) main() builds, without running the module."""
    module = importlib.import_module(PACKAGE + ".modules." + name)
    seen = {}

    def init(self, argument_spec=None, **kwargs):
        seen["spec"] = argument_spec
        seen.update(kwargs)
        raise _Spec()

    with mock.patch.object(basic.AnsibleModule, "__init__", init):
        with pytest.raises(_Spec):
            module.main()
    return seen


def module_docs(name):
    """(documentation with fragments merged, the module's own documentation, return docs) as ansible-doc reads them."""
    path = os.path.join(MODULES_DIR, name + ".py")
    merged = get_docstring(path, _Fragments(), collection_name=COLLECTION, is_module=True)
    own = yaml.safe_load(importlib.import_module(PACKAGE + ".modules." + name).DOCUMENTATION)
    return merged[0], own, merged[2] or {}


def differences(doc, spec, where):
    """What differs between documented options and their spec, recursively into suboptions."""
    found = []
    for name in sorted(set(spec) - set(doc)):
        found.append("%s%s: in the spec, not documented" % (where, name))
    for name in sorted(set(doc) - set(spec)):
        found.append("%s%s: documented, not in the spec" % (where, name))
    for name in sorted(set(doc) & set(spec)):
        d, s = doc[name], spec[name]
        here = where + name
        checks = (
            ("type", d.get("type", "str"), s.get("type", "str")),
            ("elements", d.get("elements"), s.get("elements")),
            ("default", d.get("default"), s.get("default")),
            ("choices", list(d.get("choices") or []), list(s.get("choices") or [])),
            ("aliases", sorted(d.get("aliases") or []), sorted(s.get("aliases") or [])),
            ("required", bool(d.get("required")), bool(s.get("required"))),
        )
        for what, documented, specified in checks:
            if documented != specified:
                found.append("%s: %s documented %r, spec %r" % (here, what, documented, specified))
        if not d.get("description"):
            found.append("%s: no description" % here)
        if "options" in s:
            found.extend(differences(d.get("suboptions") or {}, s["options"], here + "."))
        # Suboptions documented for a spec without them are checked by whoever validates them (lxd_instance_set's
        # entries: tests/unit/plugins/module_utils/test_instance_set.py).
    return found


@pytest.mark.parametrize("name", MODULES)
def test_spec_is_documented(name):
    doc, _own, _returns = module_docs(name)
    spec = module_spec(name)["spec"]
    assert differences(doc.get("options") or {}, spec, "") == []


@pytest.mark.parametrize("name", MODULES)
def test_shared_blocks_come_from_their_fragment(name):
    # A module whose spec takes a shared block as it is documents it with the block's fragment, and says no more
    # about its options than their description: their type, default and choices stay in one place.
    _doc, own, _returns = module_docs(name)
    spec = module_spec(name)["spec"]
    fragments = own.get("extends_documentation_fragment") or []
    for block, block_spec in SHARED_BLOCKS.items():
        if all(spec.get(option) == option_spec for option, option_spec in block_spec.items()):
            assert "%s.%s" % (COLLECTION, block) in fragments, "%s takes the %s block: extend its fragment" % (name, block)
            for option in block_spec:
                repeated = set((own.get("options") or {}).get(option, {})) - {"description"}
                assert not repeated, "%s repeats %s of %s from the %s fragment" % (name, sorted(repeated), option, block)


def _actions(returns, where=""):
    for key, value in (returns or {}).items():
        if key == "actions":
            yield where + key, value
        if isinstance(value, dict):
            yield from _actions(value.get("contains"), where + key + ".")


@pytest.mark.parametrize("name", MODULES)
def test_actions_read_the_same_everywhere(name):
    _doc, _own, returns = module_docs(name)
    for where, value in _actions(returns):
        assert value.get("sample"), (name, where, "a sample of the module's own actions")
        assert dict((k, value.get(k)) for k in ACTIONS_RETURN) == ACTIONS_RETURN, (name, where)
        if where == "actions":
            assert value.get("returned") == "always", (name, where)
            # First in RETURN: the text every module shares never runs on into the module's code.
            assert list(returns)[0] == "actions", (name, "document actions first in RETURN")


def test_every_module_is_checked():
    assert "lxd_instance" in MODULES and len(MODULES) >= 15


@pytest.mark.parametrize("name", MODULES)
def test_attributes_say_only_what_differs_from_full_support(name):
    # lxdops.server.attributes gives full check and diff mode support; a module says only where it differs.
    doc, own, _returns = module_docs(name)
    assert "%s.attributes" % COLLECTION in (own.get("extends_documentation_fragment") or []), name
    for attribute, value in (own.get("attributes") or {}).items():
        assert value != {"support": "full"}, "%s repeats full support of %s from the fragment" % (name, attribute)
    assert set(doc["attributes"]) >= {"check_mode", "diff_mode"}, name
