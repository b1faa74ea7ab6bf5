# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The input and options of the filters that read this collection's own module_utils files on the controller.
    DOCUMENTATION = r"""
options:
  _input:
    description: Names of files in the folder, for example V(replicate_command.py).
    type: list
    elements: str
    required: true
  folder:
    description: The C(plugins/module_utils) folder to read.
    type: path
    required: true
"""
