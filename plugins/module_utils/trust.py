# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A server's trust store: certificates by fingerprint, trust tokens, and a user's CLI remote for the server.

The CLI remote is written for `lxc` (LXD) or `incus` (Incus), where and how each CLI's `remote add` writes it.
The pure part (fingerprints, planning an entry's update, pending tokens, the CLI's config.yml merge) has no I/O.
TrustManager reads the trust store once, plans, and writes through Manager.write so check mode and diff are
handled in one place. Tokens are secrets: they appear in the result's `token` and nowhere else.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import socket
import tempfile
from urllib.parse import unquote

from ansible_collections.lxdops.server.plugins.module_utils.client import (
    LXDError,
    api_path,
    certificate_body,
    certificate_fingerprint,
    encode_trust_token,
    load_pem_certificate,
    pending_token_operations,
    resolve_url,
)
from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError
from ansible_collections.lxdops.server.plugins.module_utils.daemon import KIND_FACTS, layout
from ansible_collections.lxdops.server.plugins.module_utils.diff import DifferenceTracker
from ansible_collections.lxdops.server.plugins.module_utils.lxdtime import ZERO_TIME
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager

try:
    import yaml
except ImportError:  # pragma: no cover - exercised by the unit tests through the yaml_module argument
    yaml = None

# `lxc config trust remove` takes a fingerprint prefix; shorter than this is too easy to mistake.
MIN_FINGERPRINT_PREFIX = 12
_HEX_RE = re.compile(r"^[0-9a-f]+$")
# The CLI of each daemon kind, by its command name (lxc -> lxd, incus -> incus).
CLI_KINDS = dict((facts["cli"], kind) for kind, facts in KIND_FACTS.items())
# Remotes each CLI defines itself; its `remote add` refuses them, and so does this module.
STATIC_REMOTES = {
    "lxd": ("local", "ubuntu", "ubuntu-daily", "ubuntu-minimal", "ubuntu-minimal-daily"),
    "incus": ("local",),
}
# What a fresh CLI writes in a new config.yml besides the remotes it adds (lxc of LXD 5.0, incus 6.0).
_IMAGES_REMOTE = {"addr": "https://images.linuxcontainers.org", "protocol": "simplestreams", "public": True}
CLI_DEFAULT_REMOTES = {
    "lxd": {"images": _IMAGES_REMOTE, "local": {"addr": "unix://", "public": False}},
    "incus": {"images": _IMAGES_REMOTE, "local": {"addr": "unix://", "protocol": "incus", "public": False}},
}
# The organisation in the subject of the client certificate each CLI makes on first use.
CLI_CERT_ORGANIZATION = {"lxd": "linuxcontainers.org", "incus": "Linux Containers"}


# ---------------------------------------------------------------- certificates and fingerprints

def normalize_fingerprint(option, value):
    """A SHA-256 fingerprint or a prefix of one (at least 12 hex digits; colons allowed) -> lowercase hex."""
    if value is None:
        return None
    text = str(value).strip().lower().replace(":", "")
    if not _HEX_RE.match(text) or not MIN_FINGERPRINT_PREFIX <= len(text) <= 64:
        raise ConfigError("%s %r is not accepted: give the certificate's SHA-256 fingerprint in hex (64 digits, as "
                          "`lxc config trust list` or `openssl x509 -noout -fingerprint -sha256` show it), or its "
                          "first %d digits or more" % (option, _short(str(value)), MIN_FINGERPRINT_PREFIX))
    return text


def matching_certificates(certificates, fingerprint):
    """Trust-store entries whose fingerprint starts with the given (normalised) fingerprint."""
    return [cert for cert in certificates or [] if cert.get("fingerprint", "").startswith(fingerprint)]


def desired_fields(name=None, projects=None, cert_type=None):
    """The trust-store fields the task manages: only those it gives (None means leave as it is)."""
    wanted = {}
    if name is not None:
        wanted["name"] = name
    if projects is not None:
        wanted["restricted"] = bool(projects)
        wanted["projects"] = list(projects)
    if cert_type is not None:
        wanted["type"] = cert_type
    return wanted


def plan_certificate(current, wanted):
    """Return (PATCH body, DifferenceTracker) turning a trust-store entry into the wanted one.

    Project lists compare as sets: LXD does not keep their order.
    """
    tracker = DifferenceTracker()
    patch = {}
    for key, value in wanted.items():
        old = current.get(key)
        if key == "projects":
            old = list(old or [])
            same = sorted(set(old)) == sorted(set(value))
        else:
            same = old == value
        if not same:
            patch[key] = value
            tracker.add(("certificate", key), old, value)
    return patch, tracker


def public_certificate(entry):
    """A trust-store entry without its PEM body (the fingerprint identifies it)."""
    if not entry:
        return {}
    return dict((k, v) for k, v in entry.items() if k != "certificate")


# ---------------------------------------------------------------- trust tokens

def pending_tokens(operations, name, now=None):
    """The running, unexpired trust-token operations issued for client `name`.

    operations: the metadata of GET /1.0/operations?recursion=1 ({"running": [...], ...}).
    Cluster join tokens are operations of the same class; they carry no certificate request and are left out.
    """
    def for_client(meta):
        request = meta.get("request")
        return isinstance(request, dict) and request.get("name") == name
    return pending_token_operations(operations, for_client, now)


def token_restriction_matches(op, projects):
    """Whether a pending token grants what the task asks: projects None means any restriction will do."""
    if projects is None:
        return True
    request = (op.get("metadata") or {}).get("request") or {}
    granted = sorted(set(request.get("projects") or [])) if request.get("restricted") else []
    return granted == sorted(set(projects))


def token_from_operation(op_metadata, name):
    """The token string `lxc config trust add` prints, from a token operation's metadata."""
    meta = op_metadata or {}
    if not meta.get("secret"):
        raise LXDError("the server returned a token operation without a secret (is this an LXD older than the "
                       "certificate_token API extension?)")
    request = meta.get("request") or {}
    return encode_trust_token(request.get("name") or name, meta.get("fingerprint"), meta.get("addresses") or [],
                              meta["secret"], meta.get("expiresAt") or ZERO_TIME)


def token_summary(op):
    """What diff and actions may show of a token: never its secret."""
    meta = op.get("metadata") or {}
    request = meta.get("request") or {}
    return {"name": request.get("name"), "restricted": bool(request.get("restricted")),
            "projects": list(request.get("projects") or []), "operation": op.get("id")}


# ---------------------------------------------------------------- the CLI's config

def check_remote_name(value, kind=None):
    """A remote name the CLI of `kind` accepts (kind None: names built into any of them are refused)."""
    kinds = [kind] if kind else sorted(STATIC_REMOTES)
    static = [name for k in kinds for name in STATIC_REMOTES[k]]
    if (not isinstance(value, str) or not value or value != value.strip() or any(c in value for c in ":/ ")
            or value in static):
        raise ConfigError("cli_remote.name %r is not accepted: give a remote name without ':', '/' or spaces that "
                          "is not one of %s's built-in remotes (%s)"
                          % (value, " or ".join(KIND_FACTS[k]["cli"] for k in kinds),
                             ", ".join(sorted(set(static)))))


def cli_kind(value):
    """The daemon kind of a CLI named by cli_remote.cli (lxc, incus); raises ConfigError."""
    if value not in CLI_KINDS:
        raise ConfigError("cli_remote.cli %r is not accepted: give one of %s" % (value, ", ".join(sorted(CLI_KINDS))))
    return CLI_KINDS[value]


def https_address(option, url):
    """The remote's address as lxc stores it (https://host:port); raises ConfigError unless https."""
    try:
        scheme, endpoint = resolve_url(url, environ={})
    except LXDError as exc:
        raise ConfigError("%s: %s" % (option, exc.message)) from None
    if scheme != "https":
        raise ConfigError("%s %r is not accepted: a CLI remote of this kind is reached over https; give "
                          "https://host[:port]" % (option, url))
    return endpoint


def default_config_dir(home, kind="lxd", isdir=os.path.isdir):
    """A user's CLI config folder: for lxc the snap's when it exists, else the package's; for incus its own."""
    if kind == "lxd":
        snap = os.path.join(home, layout("lxd", "Ubuntu")["cli_config_dir"])
        return snap if isdir(snap) else os.path.join(home, layout("lxd", "Debian")["cli_config_dir"])
    return os.path.join(home, layout(kind)["cli_config_dir"])


def remote_entry(addr, kind="lxd"):
    """(entry, defaults) of the config.yml remote the CLI's `remote add <name> <addr>` writes (TLS auth).

    defaults: keys the CLI writes in a new entry only (incus: the remote's project), kept as they are after.
    """
    if kind == "incus":
        return {"addr": addr, "protocol": "incus", "public": False}, {"project": "default"}
    return {"addr": addr, "auth_type": "tls", "protocol": "lxd", "public": False}, {}


def new_lxc_config(kind="lxd"):
    """config.yml as a fresh CLI (lxc of LXD 5.0, incus 6.0) writes it."""
    return {"default-remote": "local", "remotes": json.loads(json.dumps(CLI_DEFAULT_REMOTES[kind])), "aliases": {}}


def merge_remote(config, name, entry, defaults=None, kind="lxd"):
    """Return (new config, DifferenceTracker) with remote `name` set to `entry`; everything else is kept.

    Keys of an existing entry that the module does not manage (a remote's project, say) stay as they are;
    `defaults` are written in a new entry only. A missing config is started as the CLI of `kind` starts it.
    """
    config = json.loads(json.dumps(config if config is not None else new_lxc_config(kind)))
    remotes = config.get("remotes")
    if remotes is None:
        remotes = config["remotes"] = {}
    if not isinstance(remotes, dict):
        raise ConfigError("config.yml: 'remotes' is not a mapping; fix the file by hand first")
    current = remotes.get(name)
    merged = dict(current) if isinstance(current, dict) else dict(defaults or {})
    merged.update(entry)
    tracker = DifferenceTracker()
    if merged != current:
        tracker.add(("cli_remote", "remotes", name), current, merged)
        remotes[name] = merged
    return config, tracker


def load_lxc_config(text, yaml_module):
    """Parse config.yml: JSON (what this module writes without PyYAML) or YAML. Raises ConfigError."""
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        if yaml_module is None:
            raise ConfigError("config.yml exists and is YAML, and PyYAML is not installed on this host: install "
                              "python3-yaml (the PyYAML package) so the file can be read and updated") from None
        try:
            data = yaml_module.safe_load(text)
        except yaml_module.YAMLError as exc:
            raise ConfigError("config.yml cannot be read as YAML: %s" % exc) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("config.yml does not hold a mapping; fix the file by hand first")
    return data


def dump_lxc_config(config, yaml_module):
    """YAML as the CLI writes it; JSON (which is YAML too) when PyYAML is missing."""
    if yaml_module is None:
        return json.dumps(config, indent=2) + "\n"
    return yaml_module.safe_dump(config, default_flow_style=False, sort_keys=False)


def client_cert_commands(openssl, key_path, cert_path, common_name, days=3650, kind="lxd"):
    """The openssl commands that make a client pair like the CLI's own (ECDSA P-384, clientAuth, ten years)."""
    return [
        [openssl, "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", key_path],
        [openssl, "req", "-new", "-x509", "-key", key_path, "-sha384", "-days", str(days),
         "-subj", "/O=%s/CN=%s" % (CLI_CERT_ORGANIZATION[kind], common_name),
         "-addext", "keyUsage=critical,digitalSignature,keyEncipherment",
         "-addext", "extendedKeyUsage=clientAuth",
         "-addext", "basicConstraints=critical,CA:FALSE",
         "-out", cert_path],
    ]


def _short(value):
    return value if len(value) < 80 else value[:77] + "..."


# ---------------------------------------------------------------- the manager

class TrustManager(Manager):
    # Set by validate(): what the task asks, normalised; `remote` and the rest only with cli_remote.
    pem = fingerprint = name = projects = cert_type = None
    remote = lxc_config = user_pem = None
    # Folders created (or, in check mode, to create) by this run.
    planned_dirs = None

    def validate(self):
        p = self.params
        state = p["state"]
        self.pem = load_pem_certificate(p["certificate"], "certificate", error=ConfigError)
        self.fingerprint = normalize_fingerprint("fingerprint", p["fingerprint"])
        if self.pem:
            full = certificate_fingerprint(self.pem)
            if self.fingerprint and not full.startswith(self.fingerprint):
                raise ConfigError("fingerprint %r does not match certificate (its fingerprint is %s); give one of "
                                  "them, or both for the same certificate" % (p["fingerprint"], full))
            self.fingerprint = full
        self.name = p["name"]
        if self.name is not None and (not self.name.strip() or any(ord(c) < 32 for c in self.name)):
            raise ConfigError("name %r is not accepted: give a non-empty certificate name without control "
                              "characters" % self.name)
        self.projects = None
        if p["projects"] is not None:
            self.projects = []
            for project in p["projects"]:
                if not isinstance(project, str) or not project or "/" in project or project != project.strip():
                    raise ConfigError("projects: %r is not a project name (non-empty, without '/' or surrounding "
                                      "spaces); give a list of project names, or [] for no restriction" % project)
                if project not in self.projects:
                    self.projects.append(project)
        self.cert_type = p["type"]
        remote = p["cli_remote"]
        if state == "token":
            if not self.name:
                raise ConfigError("state=token needs name: the client name the token is issued for (it becomes the "
                                  "name of the certificate that uses the token)")
            for option in ("certificate", "fingerprint", "cli_remote"):
                if p[option] is not None:
                    raise ConfigError("%s is not used with state=token: a token is for a client whose certificate "
                                      "the server has not seen yet" % option)
            if self.cert_type not in (None, "client"):
                raise ConfigError("type %r is not accepted with state=token: the server issues tokens for client "
                                  "certificates only" % self.cert_type)
        elif state == "absent":
            if remote is not None:
                raise ConfigError("cli_remote is only used with state=present")
            if not (self.pem or self.fingerprint or self.name):
                raise ConfigError("state=absent needs certificate (PEM text or a file), fingerprint, or name (every "
                                  "certificate and pending token of that name)")
        else:
            sources = [o for o in ("certificate", "fingerprint", "cli_remote") if p[o] is not None]
            if not sources:
                raise ConfigError("state=present needs certificate (PEM text or a file), fingerprint (of a trusted "
                                  "certificate, to update it) or cli_remote")
            if remote is not None and len(sources) > 1:
                raise ConfigError("cli_remote trusts the user's own CLI client certificate: do not give %s with it"
                                  % " or ".join(o for o in sources if o != "cli_remote"))
        if remote is not None:
            self.validate_remote(remote)

    def validate_remote(self, remote):
        kind = cli_kind(remote["cli"]) if remote["cli"] is not None else None
        check_remote_name(remote["name"], kind)
        if self.cert_type not in (None, "client"):
            raise ConfigError("type %r is not accepted with cli_remote: the CLI needs a client certificate"
                              % self.cert_type)
        user = remote["user"]
        try:
            account = pwd.getpwnam(user) if user else pwd.getpwuid(os.geteuid())
        except KeyError:
            raise ConfigError("cli_remote.user %r does not exist on this host" % user) from None
        if remote["url"]:
            addr = https_address("cli_remote.url", remote["url"])
        else:
            try:
                scheme, endpoint = resolve_url(self.params["url"])
            except LXDError as exc:
                raise ConfigError("url: %s" % exc.message) from None
            if scheme != "https":
                raise ConfigError("cli_remote.url is needed: the connection url (%s) is a unix socket, and the CLI "
                                  "remote needs the server's https address, e.g. https://lxd-snapshot.lan:8443"
                                  % endpoint)
            addr = endpoint
        self.remote = {
            "name": remote["name"],
            "user": account.pw_name,
            "uid": account.pw_uid,
            "gid": account.pw_gid,
            "home": account.pw_dir,
            "addr": addr,
            "config_dir_option": remote["config_dir"],
            "kind": None,
        }
        if kind is not None:
            self.prepare_remote(kind)

    def prepare_remote(self, kind):
        """The CLI's folder and files for the remote, read before anything is written. Raises ConfigError.

        kind: the daemon kind whose CLI gets the remote (cli_remote.cli, else the server's own kind).
        """
        remote = self.remote
        check_remote_name(remote["name"], kind)
        config_dir = remote["config_dir_option"] or default_config_dir(remote["home"], kind)
        remote.update(kind=kind, cli=KIND_FACTS[kind]["cli"],
                      config_dir=os.path.abspath(os.path.expanduser(config_dir)))
        paths = self.remote_paths()
        # Read config.yml now, so a file this host cannot parse fails the task before anything is done.
        self.lxc_config = None
        if os.path.exists(paths["config"]):
            try:
                with open(paths["config"], "r", encoding="utf-8") as handle:
                    text = handle.read()
            except (IOError, OSError, UnicodeDecodeError) as exc:
                raise ConfigError("cli_remote: cannot read %s: %s" % (paths["config"], exc)) from None
            self.lxc_config = load_lxc_config(text, yaml)
        have_crt, have_key = os.path.exists(paths["client_cert"]), os.path.exists(paths["client_key"])
        if have_crt != have_key:
            raise ConfigError("cli_remote: %s exists without %s; restore it or remove the other file so a new pair "
                              "is generated" % ((paths["client_cert"], paths["client_key"]) if have_crt
                                                else (paths["client_key"], paths["client_cert"])))
        self.user_pem = load_pem_certificate(paths["client_cert"], "cli_remote client certificate",
                                             error=ConfigError) if have_crt else None

    # ------------------------------------------------------------ reading

    def certificates(self):
        return self.client.get("/1.0/certificates", params={"recursion": 1}, project=False).metadata or []

    def find(self, certificates, fingerprint):
        found = matching_certificates(certificates, fingerprint)
        if len(found) > 1:
            raise LXDError("fingerprint %r matches %d trusted certificates on %s (%s); give more of its digits"
                           % (fingerprint, len(found), self.client.url,
                              ", ".join(c["fingerprint"][:16] for c in found)))
        return found[0] if found else None

    def fetch(self, fingerprint):
        return self.client.get(api_path("certificates", fingerprint), project=False).metadata

    def check_projects(self, projects):
        """Fail naming the projects that do not exist (LXD's own answer names none of them)."""
        if not projects:
            return
        listed = self.client.get("/1.0/projects", project=False).metadata or []
        names = set(unquote(url.rstrip("/").split("/")[-1]) for url in listed)
        missing = [project for project in projects if project not in names]
        if missing:
            raise LXDError("projects: %s not found on %s; create the projects first, or give only existing ones"
                           % (", ".join(repr(m) for m in missing), self.client.url))

    # ------------------------------------------------------------ states

    def apply(self):
        state = self.params["state"]
        if state == "token":
            self.token()
        elif state == "absent":
            self.absent()
        elif self.params["cli_remote"] is not None:
            self.cli_remote()
        else:
            self.result = {"certificate": self.present(self.pem, self.fingerprint, self.name)}

    def present(self, pem, fingerprint, name, new_name=None):
        """Trust a certificate (or converge an entry); return its trust-store entry, without the PEM.

        pem None with a fingerprint: the entry must exist. fingerprint None (check mode, a pair not generated
        yet): report the addition only. new_name: the name for a new entry when `name` is not given.
        """
        current = self.find(self.certificates(), fingerprint) if fingerprint else None
        if current is None:
            if pem is None and fingerprint:
                raise LXDError("no certificate with fingerprint %s is trusted by %s; give certificate (PEM text or "
                               "a file) to add it" % (fingerprint, self.client.url))
            self.check_projects(self.projects)
            body = {"type": self.cert_type or "client"}
            if name or new_name:
                body["name"] = name or new_name
            if self.projects:
                body.update(restricted=True, projects=list(self.projects))
            shown = dict((k, v) for k, v in body.items())
            shown.setdefault("restricted", False)
            shown.setdefault("projects", [])
            shown["fingerprint"] = fingerprint
            self.tracker.add(("certificate",), None, shown)
            if pem is not None:
                body["certificate"] = certificate_body(pem)
            self.write("add", self.client.post, "/1.0/certificates", body, project=False)
            if self.check_mode or fingerprint is None:
                return shown
            return public_certificate(self.fetch(fingerprint))
        wanted = desired_fields(name, self.projects, self.cert_type)
        patch, tracker = plan_certificate(current, wanted)
        if "type" in patch:
            raise LXDError("the certificate %s is trusted by %s as a %s certificate, and the server cannot change a "
                           "certificate's type: remove it (state=absent) and add it again as %s"
                           % (current["fingerprint"], self.client.url, current.get("type"), patch["type"]))
        if not patch:
            return public_certificate(current)
        if patch.get("projects"):
            self.check_projects(patch["projects"])
        self.tracker.merge(tracker)
        self.write("update", self.client.patch, api_path("certificates", current["fingerprint"]), patch,
                   project=False)
        if self.check_mode:
            return public_certificate(dict(current, **patch))
        return public_certificate(self.fetch(current["fingerprint"]))

    def absent(self):
        certificates = self.certificates()
        if self.fingerprint:
            found = self.find(certificates, self.fingerprint)
            targets = [found] if found else []
            tokens = []
        else:
            targets = [cert for cert in certificates if cert.get("name") == self.name]
            own = self.client.client_fingerprint() if self.client.scheme == "https" else None
            if own and any(cert["fingerprint"] == own for cert in targets):
                raise LXDError("name %r includes the certificate this task connects with (%s); it is not removed by "
                               "name: give its fingerprint to remove it deliberately" % (self.name, own))
            tokens = pending_tokens(self.client.get("/1.0/operations", params={"recursion": 1},
                                                    project=False).metadata, self.name)
        for cert in targets:
            self.tracker.add(("certificates", cert["fingerprint"]), public_certificate(cert), None)
            self.write("delete %s" % cert["fingerprint"][:12], self.client.delete,
                       api_path("certificates", cert["fingerprint"]), project=False)
        for op in tokens:
            self.revoke(op)
        self.result = {"certificate": {}, "removed": [cert["fingerprint"] for cert in targets]}

    def revoke(self, op):
        self.tracker.add(("tokens", op["id"]), token_summary(op), None)
        self.write("revoke token %s" % op["id"], self.client.delete, api_path("operations", op["id"]),
                   project=False)

    def token(self):
        if self.client.scheme == "https" and not self.client.server_fingerprint and not self.client.verify:
            # The token names the certificate of whoever answered; a client that uses it trusts that one.
            self.module.warn("verify=false: the token comes from a server whose certificate was not checked, and "
                             "it names that server's certificate; pin it with server_cert")
        operations = self.client.get("/1.0/operations", params={"recursion": 1}, project=False).metadata
        pending = pending_tokens(operations, self.name)
        reusable = [op for op in pending if token_restriction_matches(op, self.projects)]
        # A pending token for this name that grants other projects is superseded: revoke it.
        for op in pending:
            if op not in reusable:
                self.revoke(op)
        self.result = {"token": None, "certificate": {}}
        if reusable:
            self.result["token"] = token_from_operation(reusable[0].get("metadata"), self.name)
            return
        trusted = [cert for cert in self.certificates() if cert.get("name") == self.name]
        if trusted and not self.params["force"]:
            # A token nobody uses is a standing credential: none is issued for a client that is already trusted.
            self.result["certificate"] = public_certificate(trusted[0])
            return
        self.check_projects(self.projects)
        body = {"type": "client", "name": self.name, "token": True}
        if self.projects:
            body.update(restricted=True, projects=list(self.projects))
        self.tracker.add(("token",), None, {"name": self.name, "restricted": bool(self.projects),
                                            "projects": list(self.projects or [])})
        self.result["token"] = self.write("issue token", self.issue, body)

    def issue(self, body):
        response = self.client.post("/1.0/certificates", body, project=False, wait=False)
        meta = (response.metadata or {}).get("metadata") or {}
        if not meta.get("secret") and response.operation:
            meta = (self.client.get(response.operation, project=False).metadata or {}).get("metadata") or {}
        return token_from_operation(meta, self.name)

    # ------------------------------------------------------------ the user's CLI remote

    def remote_paths(self):
        folder = self.remote["config_dir"]
        return {
            "client_cert": os.path.join(folder, "client.crt"),
            "client_key": os.path.join(folder, "client.key"),
            "server_cert": os.path.join(folder, "servercerts", self.remote["name"] + ".crt"),
            "config": os.path.join(folder, "config.yml"),
        }

    def cli_remote(self):
        if self.remote["kind"] is None:
            # No CLI named: the remote is for the CLI of the daemon being added (one read, before any write).
            self.prepare_remote(self.client.daemon_kind())
        remote, paths = self.remote, self.remote_paths()
        try:
            self.ensure_dir(remote["config_dir"])
            pem = self.user_pem
            if pem is None:
                self.tracker.add(("cli_remote", "client_cert"), None, paths["client_cert"])
                pem = self.write("generate client certificate", self.generate_pair, paths)
            else:
                self.ensure_owner(paths["client_cert"], 0o644)
                self.ensure_owner(paths["client_key"], 0o600)
            fingerprint = certificate_fingerprint(pem) if pem else None
            trusted = self.present(pem, fingerprint, self.name,
                                   new_name="%s@%s" % (remote["user"], socket.gethostname()))
            server_pem = (self.client.server_info().get("environment") or {}).get("certificate")
            if not server_pem:
                raise LXDError("%s did not show its certificate (environment.certificate of GET /1.0)"
                               % self.client.url)
            if self.client.scheme == "https" and not self.client.server_fingerprint and not self.client.verify:
                self.module.warn("verify=false: the server certificate stored for remote %r was not verified; pin "
                                 "it with server_cert" % remote["name"])
            self.ensure_dir(os.path.dirname(paths["server_cert"]))
            self.write_file(paths["server_cert"], server_pem, 0o644, ("cli_remote", "server_cert"),
                            describe=lambda text: certificate_fingerprint(text) if text else None)
            entry, defaults = remote_entry(remote["addr"], remote["kind"])
            config, tracker = merge_remote(self.lxc_config, remote["name"], entry, defaults, remote["kind"])
            if tracker.has_changes:
                self.tracker.merge(tracker)
                self.write("write %s" % paths["config"], self.write_bytes, paths["config"],
                           dump_lxc_config(config, yaml), 0o644)
            else:
                self.ensure_owner(paths["config"], None)
        except (IOError, OSError) as exc:
            self.module.fail_json(msg="cli_remote: %s" % exc, changed=self.changed, actions=self.actions)
        self.result = {
            "certificate": trusted,
            "cli_remote": {
                "name": remote["name"], "addr": remote["addr"], "user": remote["user"], "cli": remote["cli"],
                "config_dir": remote["config_dir"], "client_cert": paths["client_cert"],
                "server_cert": paths["server_cert"], "fingerprint": fingerprint,
            },
        }

    def ensure_dir(self, path):
        """Create a missing folder (and missing parents) owned by the user, as lxc does (mode 0750).

        Folders that exist are left as they are, whoever owns them.
        """
        if self.planned_dirs is None:
            self.planned_dirs = set()
        planned = self.planned_dirs
        missing = []
        while path and not os.path.isdir(path) and path not in planned:
            missing.append(path)
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
        for folder in reversed(missing):
            planned.add(folder)
            self.tracker.add(("cli_remote", "folders", folder), None, "created")
            self.write("create %s" % folder, self._mkdir, folder)

    def _mkdir(self, folder):
        os.mkdir(folder, 0o750)
        os.chmod(folder, 0o750)
        os.chown(folder, self.remote["uid"], self.remote["gid"])

    def ensure_owner(self, path, mode):
        """Give an existing file or folder of the remote to the user (and the mode, when given)."""
        if not os.path.exists(path):
            return
        info = os.stat(path)
        uid, gid = self.remote["uid"], self.remote["gid"]
        wrong_owner = (info.st_uid, info.st_gid) != (uid, gid)
        wrong_mode = mode is not None and (info.st_mode & 0o777) != mode
        if not wrong_owner and not wrong_mode:
            return
        before = "%d:%d %04o" % (info.st_uid, info.st_gid, info.st_mode & 0o777)
        after = "%d:%d %04o" % (uid, gid, mode if mode is not None else info.st_mode & 0o777)
        self.tracker.add(("cli_remote", "ownership", path), before, after)
        self.write("set owner of %s" % path, self._set_owner, path, uid, gid, mode)

    @staticmethod
    def _set_owner(path, uid, gid, mode):
        os.chown(path, uid, gid)
        if mode is not None:
            os.chmod(path, mode)

    def write_file(self, path, text, mode, diff_path, describe):
        old = None
        if os.path.exists(path):
            with open(path, "r", encoding="utf-8") as handle:
                old = handle.read()
        if old is not None and old.strip() == text.strip():
            self.ensure_owner(path, None)
            return
        self.tracker.add(diff_path, describe(old), describe(text))
        self.write("write %s" % path, self.write_bytes, path, text, mode)

    def write_bytes(self, path, text, mode):
        """Replace a file atomically, owned by the user; an existing file keeps its mode."""
        if os.path.exists(path):
            mode = os.stat(path).st_mode & 0o777
        handle, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".lxdops-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, mode)
            os.chown(temp, self.remote["uid"], self.remote["gid"])
            os.replace(temp, path)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise

    def generate_pair(self, paths):
        """Make the user's client.crt and client.key with openssl, as lxc would on first use; return the PEM."""
        openssl = self.module.get_bin_path("openssl", required=True)
        work = tempfile.mkdtemp(dir=self.remote["config_dir"], prefix=".lxdops-")
        try:
            key, crt = os.path.join(work, "client.key"), os.path.join(work, "client.crt")
            common_name = "%s@%s" % (self.remote["user"], socket.gethostname())
            for argv in client_cert_commands(openssl, key, crt, common_name, kind=self.remote["kind"]):
                rc, _out, err = self.module.run_command(argv)
                if rc != 0:
                    raise LXDError("generating the client certificate for %s failed: %s %s: %s"
                                   % (self.remote["user"], argv[0], argv[1], (err or "").strip()))
            for path, mode in ((key, 0o600), (crt, 0o644)):
                os.chmod(path, mode)
                os.chown(path, self.remote["uid"], self.remote["gid"])
            with open(crt, "r", encoding="utf-8") as handle:
                pem = handle.read()
            os.replace(key, paths["client_key"])
            os.replace(crt, paths["client_cert"])
            return pem
        finally:
            shutil.rmtree(work, ignore_errors=True)
