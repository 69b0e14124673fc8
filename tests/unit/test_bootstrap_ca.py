"""bootstrap.py on a company network: uv and Node get the CA bundle pip already trusts, unless told otherwise."""

from __future__ import annotations

from pathlib import Path

import bootstrap


def _bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "corp-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    return bundle


def test_pip_cert_is_handed_to_uv_and_node(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    found = bootstrap.ca_environment({"PIP_CERT": str(bundle), "HOME": str(tmp_path)}, config_files=[])
    assert found == {"SSL_CERT_FILE": str(bundle), "NODE_EXTRA_CA_CERTS": str(bundle)}


def test_pip_conf_global_cert_is_read_and_a_later_file_wins(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    (tmp_path / ".pip").mkdir()
    (tmp_path / ".pip" / "pip.conf").write_text("[global]\ncert = /nowhere/old.pem\n", encoding="utf-8")
    (tmp_path / ".config" / "pip").mkdir(parents=True)
    (tmp_path / ".config" / "pip" / "pip.conf").write_text(f"[global]\ncert = {bundle}\n", encoding="utf-8")
    environ = {"HOME": str(tmp_path)}
    files = [f for f in bootstrap.pip_config_files(environ) if f.is_relative_to(tmp_path)]  # not this machine's /etc
    assert files == [tmp_path / ".pip" / "pip.conf", tmp_path / ".config" / "pip" / "pip.conf"]
    assert bootstrap.pip_cert(environ, config_files=files) == str(bundle)
    assert bootstrap.ca_environment(environ, config_files=files)["SSL_CERT_FILE"] == str(bundle)


def test_settings_already_made_are_kept(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    other = tmp_path / "node.pem"
    environ = {"PIP_CERT": str(bundle), "NODE_EXTRA_CA_CERTS": str(other), "HOME": str(tmp_path)}
    assert bootstrap.ca_environment(environ) == {"SSL_CERT_FILE": str(bundle)}
    # SSL_CERT_FILE set (uv reads it): Node gets the same bundle.
    assert bootstrap.ca_environment({"SSL_CERT_FILE": str(bundle), "HOME": str(tmp_path)}) == {
        "NODE_EXTRA_CA_CERTS": str(bundle)
    }


def test_no_bundle_or_a_missing_one_changes_nothing(tmp_path: Path) -> None:
    assert bootstrap.ca_environment({"HOME": str(tmp_path)}, config_files=[]) == {}
    missing = {"PIP_CERT": str(tmp_path / "missing.pem"), "HOME": str(tmp_path)}
    assert bootstrap.ca_environment(missing, config_files=[]) == {}


def test_readme_says_what_uv_and_npm_need() -> None:
    readme = (Path(bootstrap.__file__).parent / "README.md").read_text(encoding="utf-8")
    for setting in ("SSL_CERT_FILE", "UV_NATIVE_TLS", "NODE_EXTRA_CA_CERTS", "HTTPS_PROXY", "NO_PROXY"):
        assert setting in readme, setting
