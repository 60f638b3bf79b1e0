"""mesogif.Model: constructors, to_dict round trip, ModelError with the command line's message.
Deterministic."""
import json
import os

import pytest
from conftest import MODELS, cli

import mesogif


def test_default_and_file_are_b1():
    a = mesogif.Model.default()
    b = mesogif.Model.from_file(os.path.join(MODELS, "bistable_b1.json"))
    assert a.population_names == ["P1", "P2"] and a == b
    assert mesogif.Model.from_dict(b.to_dict()) == b
    assert b.to_dict()["populations"][0]["N"] == 500


def test_model_error_carries_the_cli_message(tmp_path):
    d = mesogif.Model.default().to_dict()
    d["populations"][0]["tau_m"] = -5
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d))
    with pytest.raises(mesogif.ModelError) as e:
        mesogif.Model.from_file(path)
    p = cli("run", path, "--dry-run", check=False)
    assert p.returncode == 2
    assert p.stderr.strip() == "mesogif: " + str(e.value)
    assert "/populations/0/tau_m" in str(e.value)


def test_unknown_key_and_malformed_json():
    with pytest.raises(mesogif.ModelError, match="tau_mm"):
        mesogif.Model.from_dict({"populations": [{"name": "E", "N": 10, "tau_mm": 20}]})
    with pytest.raises(mesogif.ModelError, match="line 1"):
        mesogif.Model.from_json("{not json")
    with pytest.raises(mesogif.ModelError, match="cannot|No such"):
        mesogif.Model.from_file("/nonexistent/model.json")


@pytest.mark.parametrize("bad", [42, None, b"bytes", ["list"]])
def test_wrong_types_raise_type_error(bad):
    with pytest.raises(TypeError):
        mesogif.Model.from_file(bad)
    with pytest.raises(TypeError):
        mesogif.Model.from_dict(bad)


def test_not_json_representable():
    with pytest.raises(mesogif.ModelError):
        mesogif.Model.from_dict({"populations": [{"N": float("nan")}]})
