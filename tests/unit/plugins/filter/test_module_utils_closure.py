# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import ast
import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.lxdops.server.plugins.filter.module_utils_closure import imported_files, module_utils_closure

FOLDER = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "module_utils")


def test_every_import_form_is_found():
    source = (
        "import json\n"
        "from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient\n"
        "from ansible_collections.lxdops.server.plugins.module_utils import config, diff as d\n"
        "import ansible_collections.lxdops.server.plugins.module_utils.replica\n"
        "from ansible.module_utils.basic import AnsibleModule\n"
        "from .manager import Manager\n"
        "def later():\n"
        "    from ansible_collections.lxdops.server.plugins.module_utils.instance import writable\n"
    )
    assert imported_files(source) == {"client", "config", "diff", "replica", "manager", "instance"}


def test_replicate_command_closure_holds_what_it_imports_and_exists():
    files = module_utils_closure(["replicate_command.py"], FOLDER)
    for name in ("replicate_command.py", "replica.py", "client.py", "config.py", "instance.py", "manager.py",
                 "diff.py"):
        assert name in files
    for name in files:
        assert os.path.isfile(os.path.join(FOLDER, name)), name


def test_installed_files_need_nothing_but_the_standard_library_and_themselves():
    # The command runs on hosts without Ansible: no file of the closure may import ansible.* at module level.
    entries = ["replicate_command.py"] + (["guard.py"] if os.path.exists(os.path.join(FOLDER, "guard.py")) else [])
    for name in module_utils_closure(entries, FOLDER):
        with open(os.path.join(FOLDER, name)) as handle:
            tree = ast.parse(handle.read())
        for node in tree.body:
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for module in modules:
                assert not module.startswith("ansible.") and module != "ansible", (name, module)


def test_a_missing_import_is_named(tmp_path):
    (tmp_path / "a.py").write_text("from ansible_collections.lxdops.server.plugins.module_utils.b import x\n")
    with pytest.raises(AnsibleFilterError, match="b.py"):
        module_utils_closure(["a.py"], str(tmp_path))


def test_cycles_end_and_names_are_sorted(tmp_path):
    (tmp_path / "b.py").write_text("from ansible_collections.lxdops.server.plugins.module_utils import a\n")
    (tmp_path / "a.py").write_text("from ansible_collections.lxdops.server.plugins.module_utils.b import x\n")
    assert module_utils_closure(["a"], str(tmp_path)) == ["a.py", "b.py"]


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match="list of file names"):
        module_utils_closure("replicate_command.py", FOLDER)
