"""Model hashes depend on the learned parameters only, never on pickling details."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from bctrace.errors import UsageError
from bctrace.ml.model_hash import hash_model, hash_model_file


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3))
    return x, (x[:, 0] + 0.3 * x[:, 1] > 0).astype(int)


def forest(data: tuple[np.ndarray, np.ndarray], seed: int = 0, **kw: object) -> RandomForestClassifier:
    return RandomForestClassifier(n_estimators=5, max_depth=4, random_state=seed, **kw).fit(*data)


def test_sklearn_hash_ignores_execution_settings_and_pickling(data: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    a = forest(data)
    h = hash_model(a)
    assert h["method"] == "sklearn-fitted-v1" and "estimators_" in h["fitted_attributes"]
    assert hash_model(forest(data, n_jobs=2))["sha256"] == h["sha256"]  # same model, other n_jobs
    assert hash_model(pickle.loads(pickle.dumps(a, protocol=2)))["sha256"] == h["sha256"]
    p1, p2 = tmp_path / "a.pkl", tmp_path / "b.joblib"
    p1.write_bytes(pickle.dumps(a, protocol=2))
    import joblib

    joblib.dump(forest(data, n_jobs=2), p2, compress=3)
    f1, f2 = hash_model_file(p1), hash_model_file(p2)
    assert f1["file_sha256"] != f2["file_sha256"]  # the files differ ...
    assert f1["sha256"] == f2["sha256"] == h["sha256"]  # ... the model does not


def test_sklearn_hash_sees_learned_and_prediction_relevant_changes(data: tuple[np.ndarray, np.ndarray]) -> None:
    h = hash_model(forest(data))["sha256"]
    assert hash_model(forest(data, seed=1))["sha256"] != h
    x, y = data
    y2 = y.copy()
    y2[0] = 1 - y2[0]
    assert hash_model(forest((x, y2)))["sha256"] != h
    lr = LogisticRegression().fit(x, y)
    h_lr = hash_model(lr)["sha256"]
    lr.coef_[0, 0] += 1e-12
    assert hash_model(lr)["sha256"] != h_lr


def test_structured_array_padding_does_not_reach_the_hash() -> None:
    """sklearn's Tree nodes are a structured array with padding bytes of uninitialised memory."""
    dtype = np.dtype({"names": ["a", "b"], "formats": ["<i8", "u1"], "offsets": [0, 8], "itemsize": 16})
    raw1 = bytearray(16 * 2)
    raw2 = bytearray(b"\xff" * 32)
    for raw in (raw1, raw2):
        raw[0:8] = (5).to_bytes(8, "little")
        raw[8] = 1
        raw[16:24] = (7).to_bytes(8, "little")
        raw[24] = 0
    a1, a2 = np.frombuffer(bytes(raw1), dtype=dtype), np.frombuffer(bytes(raw2), dtype=dtype)
    assert a1.tobytes() != a2.tobytes()

    class Est:
        def fit(self) -> None: ...

        def get_params(self, deep: bool = False) -> dict[str, object]:
            return {}

    e1, e2 = Est(), Est()
    e1.nodes_, e2.nodes_ = a1, a2  # type: ignore[attr-defined]
    assert hash_model(e1)["sha256"] == hash_model(e2)["sha256"]
    e2.nodes_ = a2.copy()  # type: ignore[attr-defined]
    e2.nodes_["a"][1] = 8  # type: ignore[attr-defined]
    assert hash_model(e1)["sha256"] != hash_model(e2)["sha256"]


def test_unfitted_and_unknown_objects_are_refused(data: tuple[np.ndarray, np.ndarray]) -> None:
    with pytest.raises(UsageError, match="no fitted attributes"):
        hash_model(LogisticRegression())
    with pytest.raises(UsageError, match="cannot hash a model of type builtins.object"):
        hash_model(object())


def test_other_files_hash_by_bytes(tmp_path: Path) -> None:
    p = tmp_path / "weights.bin"
    p.write_bytes(b"\x00\x01" * 100)
    h = hash_model(p)
    assert h["method"] == "file-sha256" and h["size"] == 200
    (tmp_path / "bad.pkl").write_bytes(b"not a pickle")
    assert hash_model(tmp_path / "bad.pkl")["method"] == "file-sha256"


def test_torch_state_dict_hash(tmp_path: Path) -> None:
    import torch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    h = hash_model(model)
    assert h["method"] == "torch-state-dict-v1" and h["tensors"] == 7 and h["parameters"] == 3 * 4 + 4 + 4 * 4 + 1
    assert hash_model(model.state_dict())["sha256"] == h["sha256"]
    # saved and loaded, with either serialisation format: same parameters, same hash
    for i, zipfile in enumerate((True, False)):
        path = tmp_path / f"m{i}.pt"
        torch.save(model.state_dict(), path, _use_new_zipfile_serialization=zipfile)
        assert hash_model_file(path)["sha256"] == h["sha256"]
    assert hash_model_file(tmp_path / "m0.pt")["file_sha256"] != hash_model_file(tmp_path / "m1.pt")["file_sha256"]
    # dtype, shape, key order and values all count
    assert hash_model({k: v.double() for k, v in model.state_dict().items()})["sha256"] != h["sha256"]
    sd = model.state_dict()
    assert hash_model(dict(reversed(list(sd.items()))))["sha256"] != h["sha256"]
    reshaped = dict(sd)
    reshaped["0.weight"] = sd["0.weight"].reshape(3, 4)
    assert hash_model(reshaped)["sha256"] != h["sha256"]
    with torch.no_grad():
        model[0].weight[0, 0] += 1e-6
    assert hash_model(model)["sha256"] != h["sha256"]
    # bfloat16 (no numpy dtype) hashes too
    assert hash_model({"w": torch.ones(2, dtype=torch.bfloat16)})["size"] == 4
