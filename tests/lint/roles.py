# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Roles' defaults, argument specs and READMEs checked against each other (./dev lint), and the README's
variables table written from the spec (./dev role-docs): the spec is the one source of a role's variables.

  python tests/lint/roles.py check    # exit 1 listing every mismatch
  python tests/lint/roles.py update [role ...]  # rewrite the READMEs' generated variables tables
"""

from __future__ import annotations

import json
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BEGIN = "<!-- variables: generated from meta/argument_specs.yml by ./dev role-docs; do not edit -->"
END = "<!-- end of variables -->"
# Headings every role README has (matched case-insensitively at the start of a "## " heading).
SECTIONS = ("Variables", "Example", "Verified")


class Loader(yaml.SafeLoader):
    """YAML as Ansible writes it: !unsafe marks a string Ansible must not template."""


Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load(path):
    with open(path) as handle:
        return yaml.load(handle, Loader=Loader) or {}  # noqa: S506  (a SafeLoader subclass)


def roles(root=ROOT):
    folder = os.path.join(root, "roles")
    return sorted(name for name in os.listdir(folder) if os.path.isdir(os.path.join(folder, name, "meta")))


def templated(value):
    return isinstance(value, str) and "{{" in value


def compare(role, defaults, options):
    """Mismatches between a role's defaults and its spec's options (pure: the parsed files in, messages out)."""
    problems = []
    public = dict((k, v) for k, v in defaults.items() if not k.startswith(role + "__"))
    for name in sorted(public):
        if name not in options:
            problems.append("%s: defaults/main.yml sets %s, which meta/argument_specs.yml does not declare"
                            % (role, name))
    for name, spec in sorted(options.items()):
        if not name.startswith(role + "_") and name not in public:
            continue  # a variable of the whole collection (lxdops_daemon), declared so it is documented
        if name not in public:
            if not spec.get("required"):
                problems.append("%s: meta/argument_specs.yml declares %s, which is neither required nor in "
                                "defaults/main.yml" % (role, name))
            continue
        if "default" in spec and not templated(public[name]) and spec["default"] != public[name]:
            problems.append("%s: %s defaults to %s in defaults/main.yml but the spec says %s"
                            % (role, name, json.dumps(public[name]), json.dumps(spec["default"])))
        if "default" in spec and templated(public[name]):
            problems.append("%s: %s is computed in defaults/main.yml (%s); the spec must not give it a fixed default"
                            % (role, name, public[name]))
    return problems


def first_line(value):
    text = value[0] if isinstance(value, list) and value else value or ""
    return " ".join(str(text).split())


def shown_default(name, spec, defaults):
    if name in defaults:
        value = defaults[name]
    elif "default" in spec:
        value = spec["default"]
    else:
        return "required" if spec.get("required") else ""
    if templated(value):
        return "computed (see `defaults/main.yml`)"
    return "`%s`" % json.dumps(value)


def variables_table(role, options, defaults):
    rows = ["| variable | default | what it is |", "|---|---|---|"]
    for name in sorted(options):
        spec = options[name]
        what = first_line(spec.get("description")).replace("|", "\\|")
        rows.append("| `%s` | %s | %s |" % (name, shown_default(name, spec, defaults), what))
    return "\n".join([BEGIN, "", "\n".join(rows), "", END])


def role_files(role, root=ROOT):
    base = os.path.join(root, "roles", role)
    defaults_path = os.path.join(base, "defaults", "main.yml")
    defaults = load(defaults_path) if os.path.exists(defaults_path) else {}
    options = (load(os.path.join(base, "meta", "argument_specs.yml")).get("argument_specs", {})
               .get("main", {}).get("options") or {})
    return base, defaults, options


def readme_problems(role, text, table):
    problems = []
    headings = [line[3:].strip().lower() for line in text.splitlines() if line.startswith("## ")]
    for section in SECTIONS:
        if not any(h.startswith(section.lower()) for h in headings):
            problems.append("%s: README.md has no '## %s...' section" % (role, section))
    if BEGIN not in text or END not in text:
        problems.append("%s: README.md has no generated variables table (run ./dev role-docs)" % role)
    elif text[text.index(BEGIN):text.index(END) + len(END)] != table:
        problems.append("%s: README.md's variables table differs from meta/argument_specs.yml (run ./dev role-docs)"
                        % role)
    return problems


def check(root=ROOT):
    problems = []
    for role in roles(root):
        base, defaults, options = role_files(role, root)
        problems.extend(compare(role, defaults, options))
        readme = os.path.join(base, "README.md")
        if not os.path.exists(readme):
            problems.append("%s: no README.md" % role)
            continue
        with open(readme) as handle:
            problems.extend(readme_problems(role, handle.read(), variables_table(role, options, defaults)))
    return problems


def update(root=ROOT, only=None):
    for role in only or roles(root):
        base, defaults, options = role_files(role, root)
        readme = os.path.join(base, "README.md")
        if not os.path.exists(readme):
            continue
        with open(readme) as handle:
            text = handle.read()
        table = variables_table(role, options, defaults)
        if BEGIN in text and END in text:
            text = text[:text.index(BEGIN)] + table + text[text.index(END) + len(END):]
        else:
            text = text.rstrip("\n") + "\n\n## Variables\n\n" + table + "\n"
        with open(readme, "w") as handle:
            handle.write(text)


def main(argv):
    if argv[1:2] == ["update"]:
        update(only=argv[2:])
        return 0
    problems = check()
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
