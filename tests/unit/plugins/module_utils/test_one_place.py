# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One place for each fact: LXD key knowledge lives in config.py, and each shared helper exists once.

These tests read the plugins' source (string constants outside docstrings, function definitions), so a copy
written later fails here instead of drifting from the original.
"""

from __future__ import annotations

import ast
import os

import pytest
import yaml

from ansible_collections.lxdops.server.plugins.module_utils import config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PLUGINS = os.path.join(ROOT, "plugins")
CONFIG = os.path.join(PLUGINS, "module_utils", "config.py")


def python_files():
    for folder, _dirs, files in os.walk(PLUGINS):
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.join(folder, name)


def parsed(but=CONFIG):
    """(path, syntax tree) of every plugin file but one."""
    for path in python_files():
        if path != but:
            with open(path) as handle:
                yield path, ast.parse(handle.read())


def _docstrings(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                yield first.value


def code_strings(path):
    """(line, text) of the string constants in a file's code: docstrings and the modules' docs left out."""
    with open(path) as handle:
        tree = ast.parse(handle.read())
    skip = set(id(node) for node in _docstrings(tree))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") in ("DOCUMENTATION", "EXAMPLES", "RETURN")
                                                for t in node.targets):
            skip.add(id(node.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.lineno, node.value


def functions(path):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    return [node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def where(path, line):
    return "%s:%d" % (os.path.relpath(path, ROOT), line)


# config.py's tables of LXD keys, by name: no other file defines them again.
TABLES = ("LIMIT_OPTIONS", "SERVER_SECRET_KEYS", "SECRET_KEYS", "SERVER_DEFAULTS", "SERVER_KEYS_NOT_ON_INCUS",
          "NOT_ON_INCUS", "MEMBER_POOL_KEYS", "MEMBER_NETWORK_KEYS", "IDMAP_KEYS", "_IDMAP_KEYS")
# Keys that only those tables have reason to name (a pool's zfs.pool_name or a project's limits.cpu belong to other
# tables too): written anywhere else in the plugins, they are a second copy.
TABLE_KEYS = set(
    list(config.SERVER_SECRET_KEYS) + list(config.SERVER_DEFAULTS) + list(config.SERVER_KEYS_NOT_ON_INCUS)
    + list(config.IDMAP_KEYS) + [key for key in config.MEMBER_NETWORK_KEYS if "." in key] + ["volatile.initial_source"]
)


def test_lxd_key_tables_live_in_config_only():
    copies = []
    for path, tree in parsed():
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            copies.extend("%s defines %s" % (where(path, node.lineno), target.id) for target in targets
                          if isinstance(target, ast.Name) and target.id in TABLES)
        copies.extend("%s %r" % (where(path, line), text) for line, text in code_strings(path) if text in TABLE_KEYS)
    assert copies == [], "LXD key tables belong in module_utils/config.py"


def _maps_a_limit(node):
    """Whether a dict literal or dict() call maps a limit option to its LXD key (a copy of LIMIT_OPTIONS)."""
    if isinstance(node, ast.Dict):
        pairs = [(getattr(k, "value", None), v) for k, v in zip(node.keys, node.values)]
    elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "dict":
        pairs = [(k.arg, k.value) for k in node.keywords]
    else:
        return False
    for option, value in pairs:
        if option in config.LIMIT_OPTIONS:
            key = config.LIMIT_OPTIONS[option][1]
            if any(getattr(n, "value", None) == key for n in ast.walk(value)):
                return True
    return False


def test_the_limit_map_lives_in_config_only():
    copies = [where(path, node.lineno) for path, tree in parsed() for node in ast.walk(tree) if _maps_a_limit(node)]
    assert copies == []


def test_lxd_owned_keys_are_told_by_config_only():
    # config.is_lxd_owned / is_volatile / without_volatile say which keys are LXD's; nobody else tests a prefix.
    tests = []
    for path in python_files():
        if path != CONFIG:
            tests.extend("%s %r" % (where(path, line), text) for line, text in code_strings(path)
                         if text in config.LXD_OWNED_PREFIXES)
    assert tests == []


class _Loader(yaml.SafeLoader):
    pass


# Ansible's tags (!unsafe, !vault) read as the plain values they tag.
_Loader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node)
                              if isinstance(node, yaml.ScalarNode) else None)


def _limit_maps(node, found, path):
    if isinstance(node, dict):
        pairs = [(k, v) for k, v in node.items() if k in config.LIMIT_OPTIONS and v == config.LIMIT_OPTIONS[k][1]]
        if pairs:
            found.append("%s: %s" % (path, sorted(pairs)))
        for value in node.values():
            _limit_maps(value, found, path)
    elif isinstance(node, list):
        for value in node:
            _limit_maps(value, found, path)


def test_roles_carry_no_copy_of_the_limit_map():
    # Roles hand limits to lxd_limits or lxd_instance_set, which know their keys.
    found = []
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "roles")):
        for name in files:
            if name.endswith((".yml", ".yaml")):
                path = os.path.join(folder, name)
                with open(path) as handle:
                    _limit_maps(yaml.load(handle, Loader=_Loader), found, os.path.relpath(path, ROOT))
    assert found == []


def _calls(path, name):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
            and (getattr(node.func, "id", None) == name or getattr(node.func, "attr", None) == name)]


def _only_in(owner, found):
    return [text for text in found if not text.startswith(os.path.relpath(owner, ROOT) + ":")]


def test_one_way_to_build_a_client():
    # client.client_from_options: modules (common.client_from_params), lxdops-replicate, the inventory and the
    # connection plugin build their clients with it.
    found = ["%s" % where(path, line) for path in python_files() for line in _calls(path, "LXDClient")]
    assert _only_in(os.path.join(PLUGINS, "module_utils", "client.py"), found) == []


def test_one_pem_reader():
    found = ["%s %r" % (where(path, line), text) for path in python_files() for line, text in code_strings(path)
             if "-----BEGIN" in text or "-----END" in text]
    assert _only_in(os.path.join(PLUGINS, "module_utils", "client.py"), found) == []


def test_one_time_parser_and_zero_time():
    found = ["%s %r" % (where(path, line), text) for path in python_files() for line, text in code_strings(path)
             if text.startswith("0001-01-01")]
    found += ["%s %s" % (where(path, line), name) for path in python_files()
              for name in ("strptime", "fromisoformat") for line in _calls(path, name)]
    assert _only_in(os.path.join(PLUGINS, "module_utils", "lxdtime.py"), found) == []


def test_one_address_filter():
    # instance.reachable_addresses decides which addresses count (no loopback, no link-local).
    found = ["%s %r" % (where(path, line), text) for path in python_files() for line, text in code_strings(path)
             if text in ("scope", "link", "global")]
    assert _only_in(os.path.join(PLUGINS, "module_utils", "instance.py"), found) == []


def test_helpers_are_defined_once():
    owners = {}
    for path in python_files():
        for name in functions(path):
            owners.setdefault(name, []).append(os.path.relpath(path, ROOT))
    for name in ("client_from_options", "load_pem_certificate", "parse_rfc3339", "parse_lxd_time",
                 "reachable_addresses", "is_lxd_owned", "is_volatile", "run_manager", "fetch_with_etag",
                 "check_path_name"):
        assert len(owners.get(name, [])) == 1, (name, owners.get(name))


def test_one_way_to_drop_lxd_owned_keys():
    # config.without_volatile and config.owned_view drop LXD's keys from a config; nobody filters by hand.
    found = []
    for path in python_files():
        if path != CONFIG:
            with open(path) as handle:
                found.extend("%s" % where(path, number) for number, line in enumerate(handle, 1)
                             if " for " in line and ("if not is_volatile(" in line or "if not is_lxd_owned(" in line))
    assert found == []


def test_profile_snapshot_and_backup_names_follow_one_rule():
    from ansible_collections.lxdops.server.plugins.module_utils.backup import check_backup_name
    from ansible_collections.lxdops.server.plugins.module_utils.profile import check_profile_name
    from ansible_collections.lxdops.server.plugins.module_utils.snapshot import check_snapshot_name

    checks = ((check_profile_name, "profile"), (check_snapshot_name, "snapshot"), (check_backup_name, "backup"))
    for check, what in checks:
        for bad in ("", "a/b", ".", "..", " padded "):
            with pytest.raises(config.ConfigError) as refused:
                check("name", bad)
            assert "name %r is not a valid %s name" % (bad, what) in str(refused.value)
        check("name", "nightly-1")
