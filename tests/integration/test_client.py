# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The client layer against the lab's real daemons (each kind's two, LXD and Incus): sockets, TLS, trust, errors."""

from __future__ import annotations

import os
import pickle
import socket
import threading
import time

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import (
    LXDClient,
    LXDConflict,
    LXDError,
    LXDNotFound,
    LXDUntrusted,
    api_path,
    certificate_fingerprint,
    decode_token,
    encode_token,
)


def test_unix_socket(primary, lab):
    info = primary.server_info()
    assert info["auth"] == "trusted"
    assert info["environment"]["server"] == lab["kind"]
    assert primary.daemon_kind() == lab["kind"]
    assert primary.daemon_name() == {"lxd": "LXD", "incus": "Incus"}[lab["kind"]]
    assert primary.request_count == 1


def test_untrusted_client_knows_the_daemon_kind(remote_https, new_cert, lab):
    """An untrusted client sees no environment in GET /1.0; it still tells the daemons apart."""
    crt, key = new_cert
    client = LXDClient(**dict(remote_https, client_cert=crt, client_key=key))
    assert client.server_info()["auth"] == "untrusted" and "environment" not in client.server_info()
    assert client.daemon_kind() == lab["kind"]


@pytest.mark.daemons("lxd")  # with no variable set, the default sockets find LXD's first (documented order)
def test_default_url_finds_the_package_socket(lab):
    client = LXDClient(environ={})
    assert client.url == lab["daemons"]["primary"]["url"]
    assert client.get("/1.0").metadata["auth"] == "trusted"


def test_daemon_variables_select_the_daemon(lab):
    for name in ("primary", "remote"):
        daemon = lab["daemons"][name]
        client = LXDClient(environ={daemon["dir_env"]: daemon["dir"]})
        assert client.url == daemon["url"]
        assert client.get("/1.0").metadata["config"]["core.https_address"] == daemon["https_url"][8:]
        assert client.daemon_kind() == lab["kind"]
    if lab["kind"] == "incus":
        client = LXDClient(environ={"INCUS_SOCKET": lab["daemons"]["remote"]["socket"]})
        assert client.url == lab["daemons"]["remote"]["url"] and client.daemon_kind() == "incus"
        # LXD's variables come first: both set, LXD_DIR wins (the documented order).
        lxd = lab["all_daemons"]["primary"]
        client = LXDClient(environ={"LXD_DIR": lxd["dir"], "INCUS_DIR": lab["daemons"]["remote"]["dir"]})
        assert client.url == lxd["url"] and client.daemon_kind() == "lxd"


@pytest.mark.daemons("incus")
def test_container_paths_are_refused_on_incus_naming_instances(primary, unique, busybox):
    with pytest.raises(LXDError) as err:
        primary.get("/1.0/containers")
    assert "Incus" in err.value.message and "/1.0/instances" in err.value.message
    sent = primary.request_count
    with pytest.raises(LXDError):
        primary.post("/1.0/containers", {"name": unique("old"), "source": dict(busybox, type="image")})
    assert primary.request_count == sent  # the kind is known: nothing more was sent
    assert not [n for n in primary.get("/1.0/instances").metadata if unique("old")[:-7] in n]


@pytest.mark.daemons("lxd")  # LXD 5.0 still serves the old paths
def test_container_paths_still_work_on_lxd(primary):
    assert isinstance(primary.get("/1.0/containers").metadata, list)


def test_https_with_client_cert_and_pinned_server_cert(remote_https):
    client = LXDClient(**remote_https)
    assert client.server_info()["auth"] == "trusted"
    assert isinstance(client.get("/1.0/instances").metadata, list)


def test_pinned_cert_as_pem_text(remote_https):
    with open(remote_https["server_cert"]) as handle:
        pem = handle.read()
    client = LXDClient(**dict(remote_https, server_cert=pem))
    assert client.server_info()["auth"] == "trusted"


def test_wrong_pinned_cert_is_refused(lab, remote_https):
    wrong = lab["daemons"]["primary"]["server_cert"]
    client = LXDClient(**dict(remote_https, server_cert=wrong))
    with pytest.raises(LXDError) as err:
        client.get("/1.0")
    with open(remote_https["server_cert"]) as handle:
        real = certificate_fingerprint(handle.read())
    assert "does not match the pinned server_cert" in err.value.message
    assert real in err.value.message


def test_self_signed_without_pin_is_refused_by_default(remote_https):
    options = dict(remote_https)
    del options["server_cert"]
    with pytest.raises(LXDError) as err:
        LXDClient(**options).get("/1.0")
    assert "cannot verify the TLS certificate" in err.value.message
    assert "server_cert" in err.value.message


def test_verify_false_is_an_explicit_opt_out(remote_https):
    options = dict(remote_https, verify=False)
    del options["server_cert"]
    assert LXDClient(**options).server_info()["auth"] == "trusted"


def test_untrusted_client_is_refused(remote_https, new_cert):
    crt, key = new_cert
    client = LXDClient(**dict(remote_https, client_cert=crt, client_key=key))
    with pytest.raises(LXDUntrusted) as err:
        client.get("/1.0/instances")
    assert "is not trusted" in err.value.message and "trust_token" in err.value.message
    with open(crt) as handle:
        assert certificate_fingerprint(handle.read()) in err.value.message


def test_trust_token_once_then_no_token_needed(remote_https, remote_unix, new_cert, unique):
    crt, key = new_cert
    token = remote_unix.issue_trust_token(unique("token"))
    options = dict(remote_https, client_cert=crt, client_key=key)

    first = LXDClient(trust_token=token, **options)
    assert isinstance(first.get("/1.0/instances").metadata, list)
    with open(crt) as handle:
        fingerprint = certificate_fingerprint(handle.read())
    assert remote_unix.exists(api_path("certificates", fingerprint)) is not None

    second = LXDClient(**options)
    assert isinstance(second.get("/1.0/instances").metadata, list)
    assert second.request_count == 1

    # A token left in the play costs nothing once trusted: no trust request is made.
    third = LXDClient(trust_token=token, **options)
    third.get("/1.0/instances")
    assert third.request_count == 1


def test_used_token_is_refused_clearly(remote_https, remote_unix, new_cert, unique, tmp_path):
    token = remote_unix.issue_trust_token(unique("token"))
    crt, key = new_cert
    assert LXDClient(trust_token=token, **dict(remote_https, client_cert=crt, client_key=key)).is_trusted() is False
    assert LXDClient(trust_token=token, **dict(remote_https, client_cert=crt, client_key=key)).server_info()["auth"] == "trusted"
    other_crt, other_key = str(tmp_path / "o.crt"), str(tmp_path / "o.key")
    os.system("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
              "-subj /CN=o -keyout %s -out %s 2>/dev/null" % (other_key, other_crt))
    late = LXDClient(trust_token=token, **dict(remote_https, client_cert=other_crt, client_key=other_key))
    with pytest.raises(LXDUntrusted) as err:
        late.get("/1.0/instances")
    assert "trust_token was refused" in err.value.message
    assert token not in err.value.message


@pytest.mark.daemons("lxd")  # Incus has no trust password: see test_trust_password_is_refused_by_name_on_incus
def test_trust_password_on_a_server_that_accepts_one(remote_https, remote_unix, new_cert):
    remote_unix.patch("/1.0", {"config": {"core.trust_password": "lxdops-test-pw"}}, project=False)
    try:
        crt, key = new_cert
        client = LXDClient(trust_password="lxdops-test-pw", **dict(remote_https, client_cert=crt, client_key=key))
        assert isinstance(client.get("/1.0/instances").metadata, list)
    finally:
        remote_unix.patch("/1.0", {"config": {"core.trust_password": None}}, project=False)
        with open(new_cert[0]) as handle:
            remote_unix.delete(api_path("certificates", certificate_fingerprint(handle.read())), project=False)


def test_not_found_and_already_exists(primary, unique, lab):
    name = unique("profile")
    with pytest.raises(LXDNotFound) as err:
        primary.get(api_path("profiles", name))
    assert name in err.value.message
    assert primary.exists(api_path("profiles", name)) is None
    primary.post("/1.0/profiles", {"name": name})
    with pytest.raises(LXDConflict) as err:
        primary.post("/1.0/profiles", {"name": name})
    assert "already exists" in err.value.message


def test_missing_project_is_named(lab):
    client = LXDClient(url=lab["daemons"]["primary"]["url"], project="lxdops-test-no-such-project")
    with pytest.raises(LXDNotFound) as err:
        client.get("/1.0/instances")
    assert "project 'lxdops-test-no-such-project' does not exist" in err.value.message


def test_project_is_applied(primary, unique, lab):
    project = unique("proj")
    primary.post("/1.0/projects", {"name": project, "config": {"features.profiles": "true"}}, project=False)
    client = LXDClient(url=lab["daemons"]["primary"]["url"], project=project)
    client.post("/1.0/profiles", {"name": unique("inproj")})
    names = [p.rsplit("/", 1)[-1] for p in client.get("/1.0/profiles").metadata]
    assert any(n.startswith(lab["prefix"] + "inproj") for n in names)
    default_names = [p.rsplit("/", 1)[-1] for p in primary.get("/1.0/profiles").metadata]
    assert not any(n.startswith(lab["prefix"] + "inproj") for n in default_names)


def test_operations_are_awaited_and_failures_reported(primary, unique, lab):
    name = unique("op")
    image = lab["images"]["busybox"]["alias"]
    primary.post("/1.0/instances", {"name": name, "source": {"type": "image", "alias": image}})
    assert primary.get(api_path("instances", name)).metadata["status"] == "Stopped"
    with pytest.raises(LXDError) as err:
        primary.post("/1.0/instances", {"name": unique("op"), "source": {"type": "image", "alias": "lxdops-test-none"}})
    # LXD names the missing alias; Incus 6.0.4 says "Image not provided for instance creation".
    assert "lxdops-test-none" in err.value.message or "not found" in err.value.message.lower() \
        or "image not provided" in err.value.message.lower()


def test_etag_mismatch_is_detected(primary, unique):
    name = unique("etag")
    primary.post("/1.0/profiles", {"name": name, "description": "one"})
    first = primary.get(api_path("profiles", name))
    primary.patch(api_path("profiles", name), {"description": "changed elsewhere"})
    with pytest.raises(LXDError) as err:
        primary.put(api_path("profiles", name), {"description": "mine", "config": {}, "devices": {}}, etag=first.etag)
    assert "ETag" in err.value.message
    assert primary.get(api_path("profiles", name)).metadata["description"] == "changed elsewhere"


def test_permission_denied_on_the_socket(lab):
    """A user outside root's group gets told why, not a traceback."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop to nobody, then try the root-only socket
        os.close(read_end)
        try:
            os.setgid(65534)
            os.setuid(65534)
            LXDClient(url=lab["daemons"]["primary"]["url"]).get("/1.0")
            outcome = "no error"
        except LXDError as exc:
            outcome = exc.message
        except Exception as exc:  # pylint: disable=broad-except
            outcome = "unexpected %r" % exc
        os.write(write_end, pickle.dumps(outcome))
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as handle:
        outcome = pickle.loads(handle.read())
    os.waitpid(pid, 0)
    assert "permission denied on the socket" in outcome
    assert "'lxd' for LXD" in outcome and "'incus-admin' for Incus" in outcome


def test_stopped_daemon_gives_a_clear_message(remote_https, tmp_path):
    """What a stopped daemon leaves: no socket, a socket nobody listens on, a closed port. The lab's daemons are
    shared with other test sessions, so none is stopped here: the same three conditions are made aside."""
    with pytest.raises(LXDError) as err:
        LXDClient(url="unix:%s" % (tmp_path / "gone.socket")).get("/1.0")
    assert "does not exist: is LXD or Incus installed and running?" in err.value.message
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(tmp_path / "dead.socket"))
    dead.close()
    with pytest.raises(LXDError) as err:
        LXDClient(url="unix:%s" % (tmp_path / "dead.socket")).get("/1.0")
    assert "nothing answers on the socket" in err.value.message and "is LXD or Incus running?" in err.value.message
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(LXDError) as err:
        LXDClient(**dict(remote_https, url="https://127.0.0.1:%d" % port)).get("/1.0")
    assert "connection refused" in err.value.message


def test_exec_past_its_timeout_fails_and_the_command_is_killed(primary, instance):
    name = instance("exectimeout")
    started = time.monotonic()
    with pytest.raises(LXDError) as err:
        primary.execute(name, ["sleep", "30"], timeout=3)
    elapsed = time.monotonic() - started
    assert 3 <= elapsed < 8, elapsed
    assert "'sleep 30' in %s did not end within 3 seconds" % name in err.value.message
    assert "it was sent SIGKILL" in err.value.message
    assert not [t for t in threading.enumerate() if t.name.startswith("lxdops-exec-") and t.is_alive()]
    # LXD got the signal: the sleep is gone, well before its 30 seconds.
    deadline = time.monotonic() + 5
    while True:
        _code, out, _err = primary.execute(name, ["ps"])
        if b"sleep 30" not in out or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert b"sleep 30" not in out, out
    # The same client still runs commands, and a command within its limit is unaffected.
    assert primary.execute(name, ["sh", "-c", "sleep 1; echo done"], timeout=3) == (0, b"done\n", b"")
    # Input the command never reads neither holds the call nor loses the output.
    assert primary.execute(name, ["sh", "-c", "echo hi; exit 4"], stdin=b"x" * (8 << 20), timeout=10) == \
        (4, b"hi\n", b"")
    started = time.monotonic()
    with pytest.raises(LXDError, match="did not end within 2 seconds"):
        primary.execute(name, ["sleep", "30"], stdin=b"x" * (8 << 20), timeout=2)
    assert time.monotonic() - started < 4


def test_exec_over_https_past_its_timeout(remote_https, remote_unix, run_module, busybox, unique):
    name = unique("exectls")
    result = run_module("lxd_instance", dict(remote_https, name=name, source=busybox))
    assert not result.get("failed"), result.get("msg")
    client = LXDClient(**remote_https)
    started = time.monotonic()
    with pytest.raises(LXDError, match="did not end within 3 seconds"):
        client.execute(name, ["sleep", "30"], timeout=3)
    assert time.monotonic() - started < 8
    assert client.execute(name, ["echo", "ok"]) == (0, b"ok\n", b"")


def _fingerprint(path):
    with open(path) as handle:
        return certificate_fingerprint(handle.read())


def _unverified(remote_https, new_cert):
    crt, key = new_cert
    options = dict(remote_https, client_cert=crt, client_key=key, verify=False)
    del options["server_cert"]
    return options


@pytest.mark.daemons("incus")
def test_trust_password_is_refused_by_name_on_incus(remote_https, remote_unix, new_cert, run_module, unique):
    crt, key = new_cert
    options = dict(remote_https, client_cert=crt, client_key=key)
    with pytest.raises(LXDUntrusted) as err:
        LXDClient(trust_password="lxdops-test-pw", **options).get("/1.0/instances")
    assert "Incus has no trust password" in err.value.message and "trust_token" in err.value.message
    assert "lxdops-test-pw" not in err.value.message
    result = run_module("lxd_profile", dict(options, trust_password="lxdops-test-pw", name=unique("p"),
                                            state="absent"))
    assert result.get("failed") and "Incus has no trust password" in result["msg"], result
    assert "lxdops-test-pw" not in result["_stdout"]
    assert remote_unix.exists(api_path("certificates", _fingerprint(crt)), project=False) is None


@pytest.mark.daemons("lxd")  # Incus has no trust password
def test_trust_password_is_not_sent_to_an_unverified_server(remote_https, remote_unix, new_cert, run_module, unique):
    remote_unix.patch("/1.0", {"config": {"core.trust_password": "lxdops-test-pw"}}, project=False)
    try:
        options = _unverified(remote_https, new_cert)
        with pytest.raises(LXDUntrusted) as err:
            LXDClient(trust_password="lxdops-test-pw", **options).get("/1.0/instances")
        assert "trust_password was not sent to %s" % remote_https["url"] in err.value.message
        assert "verify=false" in err.value.message and "server_cert" in err.value.message
        assert "lxdops-test-pw" not in err.value.message
        # The module says the same, and nothing was sent: the certificate is still not trusted.
        result = run_module("lxd_profile", dict(options, trust_password="lxdops-test-pw", name=unique("p"),
                                                state="absent"))
        assert result.get("failed") and "trust_password was not sent" in result["msg"], result
        assert remote_unix.exists(api_path("certificates", _fingerprint(new_cert[0])), project=False) is None
        # Pinned, the same password is sent and works.
        pinned = dict(options, server_cert=remote_https["server_cert"])
        assert isinstance(LXDClient(trust_password="lxdops-test-pw", **pinned).get("/1.0/instances").metadata, list)
    finally:
        remote_unix.patch("/1.0", {"config": {"core.trust_password": None}}, project=False)
        if remote_unix.exists(api_path("certificates", _fingerprint(new_cert[0])), project=False) is not None:
            remote_unix.delete(api_path("certificates", _fingerprint(new_cert[0])), project=False)


def test_trust_token_with_verify_false_is_pinned_to_the_certificate_it_names(
        remote_https, remote_unix, new_cert, unique):
    token = remote_unix.issue_trust_token(unique("token"))
    client = LXDClient(trust_token=token, **_unverified(remote_https, new_cert))
    assert isinstance(client.get("/1.0/instances").metadata, list)
    assert client.server_fingerprint == _fingerprint(remote_https["server_cert"])
    assert remote_unix.exists(api_path("certificates", _fingerprint(new_cert[0])), project=False) is not None


def test_trust_token_naming_another_certificate_is_not_sent(lab, remote_https, remote_unix, new_cert, unique):
    token = remote_unix.issue_trust_token(unique("token"))
    # The same token as if another server (here: the primary) had issued it: what a stranger at the address
    # would present is not the certificate the token names.
    forged = encode_token(dict(decode_token(token), fingerprint=_fingerprint(lab["daemons"]["primary"]["server_cert"])))
    with pytest.raises(LXDError) as err:
        LXDClient(trust_token=forged, **_unverified(remote_https, new_cert)).get("/1.0/instances")
    assert "does not match the pinned fingerprint in the trust token" in err.value.message
    assert _fingerprint(remote_https["server_cert"]) in err.value.message
    # The secret never left: the genuine token is still unused and works.
    genuine = LXDClient(trust_token=token, **_unverified(remote_https, new_cert))
    assert isinstance(genuine.get("/1.0/instances").metadata, list)
