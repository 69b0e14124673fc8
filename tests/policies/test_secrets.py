"""policies/lib/stg_secrets.py on its own: what counts as secret material in raw template data.

The gate-level disguises are in tests/harness/evasions.py (category "secrets"); these pin the
recognition rules, including where a name/value pair names its value, and the references that
must not raise a false alarm.
"""

from __future__ import annotations

from typing import Any

import pytest

from policies.lib import stg_secrets

SECRET_MATERIAL = {
    "a password in an SSM String parameter named for it": {
        "Name": "/staging/db/master-password",
        "Type": "String",
        "Value": "Zq8#vR2!mK9$wL4p",
    },
    "a password in an SSM parameter whose name is an Fn::Sub": {
        "Name": {"Fn::Sub": "/${Env}/db/master-password"},
        "Type": "String",
        "Value": "Zq8#vR2!mK9$wL4p",
    },
    "a password under a tag key": {"Tags": [{"Key": "db_password", "Value": "Payments-Staging-2024!"}]},
    "an access key id in a tag value": {"Tags": [{"Key": "deploy", "Value": "AKIAIOSFODNN7EXAMPLE"}]},
    "a password in an environment variable": {"Environment": {"Variables": {"DB_PASSWORD": "hunter2-staging"}}},
    "a password in a variable named like a reference": {
        "Environment": {"Variables": {"DB_PASSWORD_ID": "hunter2-staging"}}
    },
    "credentials in a connection URL": {"Url": "postgres://admin:Payments-2024!@db.internal:5432/app"},
    "a literal in a property named for a secret": {"MasterUserPassword": "correct-horse"},
}

NOT_SECRET = {
    "a secret's ARN": {"SecretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"},
    "a dynamic reference": {"MasterUserPassword": "{{resolve:secretsmanager:db:SecretString:password}}"},
    "a reference to a parameter": {"MasterUserPassword": {"Ref": "DbPassword"}},
    "an SSM parameter holding a host name": {"Name": "/staging/db/host", "Type": "String", "Value": "db.internal"},
    "ordinary tags": {"Tags": [{"Key": "Environment", "Value": "staging"}, {"Key": "CostCenter", "Value": "eng"}]},
    "a secret's settings": {"GenerateSecretString": {"PasswordLength": 32, "ExcludePunctuation": True}},
}


@pytest.mark.parametrize("properties", SECRET_MATERIAL.values(), ids=SECRET_MATERIAL.keys())
def test_secret_material_is_found(properties: dict[str, Any]) -> None:
    found = stg_secrets.problems(properties, where="Properties")
    assert found and all(line.startswith("Properties.") for line in found), found


@pytest.mark.parametrize("properties", NOT_SECRET.values(), ids=NOT_SECRET.keys())
def test_references_and_settings_are_not_secret_material(properties: dict[str, Any]) -> None:
    assert stg_secrets.problems(properties, where="Properties") == []


def test_the_pair_names_its_value_in_the_message() -> None:
    found = stg_secrets.problems(SECRET_MATERIAL["a password under a tag key"], where="Properties")
    assert found == ["Properties.Tags.0.Value holds secret material (KeywordDetector)"]
