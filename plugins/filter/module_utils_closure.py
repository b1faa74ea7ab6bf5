# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: module_utils_closure
short_description: The module_utils files a command needs, found from its imports
version_added: 0.1.0
description:
  - Reads the given entry files of this collection's C(plugins/module_utils) folder on the controller and follows
    their imports of C(ansible_collections.lxdops.server.plugins.module_utils.*) (and relative imports) to every file
    they need, recursively, without running any of them.
  - The snapshot_server role installs exactly this list for C(lxdops-replicate), so a new import cannot be forgotten.
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - lxdops.server.module_utils_folder
"""

EXAMPLES = r"""
- name: Files of the replication command
  ansible.builtin.set_fact:
    files: "{{ ['replicate_command.py'] | lxdops.server.module_utils_closure(role_path ~ '/../../plugins/module_utils') }}"
# files == ['client.py', 'config.py', 'diff.py', 'instance.py', 'manager.py', 'replica.py', 'replicate_command.py', ...]
"""

RETURN = r"""
_value:
  description: File names in the folder, the entries included, sorted.
  type: list
  elements: str
"""

import ast
import os

from ansible.errors import AnsibleFilterError

PACKAGE = "ansible_collections.lxdops.server.plugins.module_utils"


def imported_files(source, filename="<source>"):
    """Names (without .py) of this collection's module_utils a Python source imports. Pure."""
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        raise ValueError("%s: %s" % (filename, exc))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    names.add(alias.name[len(PACKAGE) + 1:].split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level == 1:
                # from . import x / from .x import y, inside module_utils itself.
                names.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
            elif node.level == 0 and node.module == PACKAGE:
                names.update(alias.name for alias in node.names)
            elif node.level == 0 and node.module and node.module.startswith(PACKAGE + "."):
                names.add(node.module[len(PACKAGE) + 1:].split(".")[0])
    return names


def module_utils_closure(entries, folder):
    if isinstance(entries, str) or not isinstance(entries, (list, tuple)):
        raise AnsibleFilterError("module_utils_closure: expected a list of file names, got %r" % (entries,))
    seen = set()
    todo = [os.path.basename(str(e)) for e in entries]
    while todo:
        name = todo.pop()
        if not name.endswith(".py"):
            name += ".py"
        if name in seen:
            continue
        path = os.path.join(folder, name)
        try:
            with open(path, encoding="utf-8") as handle:
                source = handle.read()
        except OSError as exc:
            raise AnsibleFilterError("module_utils_closure: cannot read %s (imported or given as an entry): %s"
                                     % (path, exc))
        try:
            todo.extend(imported_files(source, path))
        except ValueError as exc:
            raise AnsibleFilterError("module_utils_closure: %s" % exc)
        seen.add(name)
    return sorted(seen)


class FilterModule:
    def filters(self):
        return {"module_utils_closure": module_utils_closure}
