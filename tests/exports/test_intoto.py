"""in-toto Statement v1 per record (validated with the attestation framework's bindings), SLSA
Provenance v1 of a real ML run, DSSE envelopes signed with the [signer] key, and the import of a
statement as a record."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement

from bctrace import Tracer

KEY = "0x" + "42" * 32


def parsed(data: dict) -> Statement:
    """The statement as the in-toto bindings read it, after their own validation."""
    stmt = Statement.copy_from_pb(json_format.ParseDict(data, statement_pb2.Statement()))
    stmt.validate()
    return stmt


def export(cli, *args) -> list[dict]:
    result = cli("export", *args, "--format", "in-toto", "-o", "statements/", "--json")
    assert result.exit_code == 0, result.output
    return [json.loads(Path(p).read_text()) for p in json.loads(result.stdout)["files"]]


def test_a_statement_per_record_with_its_artifacts_as_subjects(donation_trace: list[Path], cli, project: Path) -> None:
    statements = {s["predicate"]["digest"]: s for s in export(cli, *donation_trace)}
    assert len(statements) == 3
    for path in donation_trace:
        bundle = json.loads(path.read_text())
        stmt = statements[bundle["digest"]]
        parsed(stmt)
        assert stmt["_type"] == "https://in-toto.io/Statement/v1"
        assert stmt["predicate"] == bundle  # the whole bundle, integers and all: still verifiable
    receipt = statements[json.loads(donation_trace[2].read_text())["digest"]]
    assert receipt["subject"] == [{"name": "receipt.pdf", "digest": {"sha256": hashlib.sha256(b"%PDF receipt").hexdigest()}}]
    donation = statements[json.loads(donation_trace[0].read_text())["digest"]]
    # no artifact: the record itself is the subject, by the sha256 of its canonical bytes
    assert donation["subject"][0]["digest"]["sha256"] == donation["predicate"]["digest"][2:]


def test_a_salted_text_is_never_given_as_a_plain_sha256(project: Path, cli) -> None:
    assert cli("stamp", "-", input="my idea\n").exit_code == 0
    [stmt] = export(cli, project / ".bctrace" / "bundles")
    parsed(stmt)
    assert stmt["subject"][0]["name"].startswith("bctrace-record:")
    assert hashlib.sha256(b"my idea\n").hexdigest() not in json.dumps(stmt)


def test_the_bindings_refuse_what_is_not_a_statement() -> None:
    from bctrace.exports.intoto import validate

    good = {"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "a", "digest": {"sha256": "ab" * 32}}],
            "predicateType": "urn:x", "predicate": {"a": 1}}
    validate(good)
    for broken in ({**good, "subject": []}, {**good, "_type": "https://in-toto.io/Statement/v0.1"},
                   {**good, "subject": [{"name": "a"}]}, {**good, "extra": 1}):
        with pytest.raises(ValueError):
            validate(broken)


# -- ML runs: SLSA Provenance v1 ------------------------------------------------------------


@pytest.fixture
def ml_run(project: Path) -> tuple[Path, dict]:
    """A real (tiny) scikit-learn training run, flushed; its bundle folder and the model's hash."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    (project / "train.csv").write_text("x,y\n0,0\n1,0\n2,1\n3,1\n")
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    with Tracer.from_config() as tracer:
        with tracer.run("logreg", params={"C": 1.0}, seed=0, bundle_dir=project / "run") as run:
            run.log_input("train.csv", role="train")
            model = LogisticRegression(C=1.0).fit(x, y)
            run.log_metrics({"accuracy": float(model.score(x, y))})
            model_info = run.log_model(model)
        tracer.flush()
    return project / "run", model_info


def test_an_ml_run_exports_as_slsa_provenance_whose_subject_is_the_model(ml_run, cli) -> None:
    folder, model = ml_run
    [stmt] = export(cli, folder)  # start and end step: one provenance
    parsed(stmt)
    assert stmt["predicateType"] == "https://slsa.dev/provenance/v1"
    json_format.ParseDict(stmt["predicate"], provenance_pb2.Provenance())  # the SLSA v1 schema, no unknown field
    assert stmt["subject"] == [{"name": "model", "digest": {"sha256": model["sha256"][2:]}}]
    build = stmt["predicate"]["buildDefinition"]
    assert build["externalParameters"]["params"] == {"C": 1.0} and build["externalParameters"]["seed"] == 0
    assert "argv" in build["externalParameters"]["code"]
    assert build["internalParameters"]["environment"]["packages"]["scikit-learn"]
    train = hashlib.sha256((folder.parent / "train.csv").read_bytes()).hexdigest()
    assert {"name": "train.csv", "digest": {"sha256": train}} .items() <= next(
        d for d in build["resolvedDependencies"] if d["name"] == "train.csv").items()
    byproducts = stmt["predicate"]["runDetails"]["byproducts"]
    assert byproducts[0]["annotations"]["metrics"] == {"accuracy": 1.0}
    end = json.loads(sorted(folder.glob("*-end.bctrace.json"))[0].read_text())
    assert byproducts[1]["digest"]["sha256"] == end["digest"][2:] and byproducts[1]["annotations"]["bundle"] == end


def test_an_ml_run_without_its_start_step_is_refused(ml_run, cli) -> None:
    folder, _ = ml_run
    result = cli("export", *folder.glob("*-end.bctrace.json"), "--format", "in-toto")
    assert result.exit_code == 2 and "its start step (code, environment) is not among the bundles" in result.stderr


# -- DSSE ------------------------------------------------------------------------------------


def test_sign_wraps_each_statement_in_a_dsse_envelope_of_the_signer(donation_trace: list[Path], cli, project: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from eth_account import Account
    from eth_account.messages import encode_defunct
    from securesystemslib.dsse import Envelope

    monkeypatch.setenv("AUTHOR_KEY", KEY)
    (project / "bctrace.toml").write_text('[signer]\nkey = "env:AUTHOR_KEY"\n')
    result = cli("export", donation_trace[2], "--format", "in-toto", "--sign", "-o", "signed/")
    assert result.exit_code == 0, result.output
    [path] = (project / "signed").glob("*.dsse.json")
    data = json.loads(path.read_text())
    assert data["payloadType"] == "application/vnd.in-toto+json"
    parsed(json.loads(base64.b64decode(data["payload"])))
    envelope = Envelope.from_dict(json.loads(path.read_text()))  # (from_dict rewrites the dict it is given)
    [signature] = data["signatures"]
    address = Account.from_key(KEY).address
    sig = base64.b64decode(signature["sig"])
    assert signature["keyid"] == address
    assert Account.recover_message(encode_defunct(primitive=envelope.pae()), signature=sig) == address
    data["payload"] = base64.b64encode(base64.b64decode(data["payload"]).replace(b"receipt.pdf", b"receipt.PDF")).decode()
    tampered = Envelope.from_dict(data)
    assert Account.recover_message(encode_defunct(primitive=tampered.pae()), signature=sig) != address
    assert KEY[2:] not in path.read_text() and KEY[2:] not in result.output


def test_sign_without_a_signer_is_one_line(donation_trace: list[Path], cli) -> None:
    result = cli("export", donation_trace[0], "--format", "in-toto", "--sign")
    assert result.exit_code == 2 and "no [signer] table" in result.stderr


# -- import --------------------------------------------------------------------------------


def test_import_records_a_statement_with_its_subjects(project: Path, cli) -> None:
    artifact = hashlib.sha256(b"wheel bytes").hexdigest()
    provenance = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "pkg-1.0-py3-none-any.whl", "digest": {"sha256": artifact, "sha512": "ab" * 64}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"buildDefinition": {"buildType": "https://example.com/ci@v1", "externalParameters": {"ref": "main"}},
                      "runDetails": {"builder": {"id": "https://example.com/ci"}}},
    }
    (project / "prov.intoto.json").write_text(json.dumps(provenance))
    result = cli("import", "--format", "in-toto", "prov.intoto.json", "--flush", "--json")
    assert result.exit_code == 0, result.output
    bundle = json.loads(Path(json.loads(result.stdout)["bundle"]).read_text())
    record = bundle["record"]
    assert record["kind"] == "in-toto-statement"
    assert record["subjects"] == [{"name": "pkg-1.0-py3-none-any.whl", "sha256": "0x" + artifact, "digests": {"sha512": "ab" * 64}}]
    assert record["body"]["predicate"] == provenance["predicate"]
    assert record["body"]["statement_sha256"] == "0x" + hashlib.sha256((project / "prov.intoto.json").read_bytes()).hexdigest()
    assert cli("verify", json.loads(result.stdout)["bundle"]).exit_code == 0
    # and back out: the exported statement has the same subjects
    [again] = export(cli, json.loads(result.stdout)["bundle"])
    assert again["subject"] == [{"name": "pkg-1.0-py3-none-any.whl", "digest": {"sha256": artifact, "sha512": "ab" * 64}}]


@pytest.mark.parametrize("statement,message", [
    ({"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "a", "digest": {"sha512": "ab" * 64}}],
      "predicateType": "urn:x", "predicate": {"a": 1}}, "subject 0 ('a') has no sha256 digest"),
    ({"_type": "https://in-toto.io/Statement/v1", "subject": [], "predicateType": "urn:x", "predicate": {"a": 1}},
     "At least one subject required"),
    ([1, 2], "not an in-toto statement"),
])
def test_import_refuses_a_bad_statement_in_one_line(project: Path, cli, statement, message: str) -> None:
    (project / "s.json").write_text(json.dumps(statement))
    result = cli("import", "--format", "in-toto", "s.json")
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output
    assert cli("status", "--json").stdout.count('"pending": 0') == 1
