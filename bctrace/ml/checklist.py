"""The reproducibility checklist carried by a run's end step.

Items follow the NeurIPS/JMLR checklist (Pineau et al., JMLR 22, 2021) and REFORMS (Kapoor et
al., 2023); the leakage items are Kapoor & Narayanan's taxonomy (Patterns, 2023). Some items are
filled from what bctrace captured, the others only the user can declare. The completeness score
is the share of applicable items that are satisfied: a leakage item declared ``"unknown"`` counts
as not satisfied (it is honest, but it is not a check).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import UsageError

__all__ = ["DECLARATION_KEYS", "LEAKAGE_ITEMS", "LEAKAGE_STATES", "build_checklist", "validate_declarations"]

STANDARDS = ("Pineau et al., JMLR 22 (2021)", "REFORMS (Kapoor et al., 2023)", "Kapoor & Narayanan, Patterns (2023)")

LEAKAGE_ITEMS: dict[str, str] = {
    "no_test_set": "A separate test set exists and was used only for evaluation",
    "preprocessing_on_train_and_test": "Preprocessing was fitted on training data only",
    "feature_selection_on_train_and_test": "Feature selection used training data only",
    "duplicates_across_splits": "No duplicates across train and test splits",
    "illegitimate_features": "No illegitimate features (proxies of the target)",
    "temporal_leakage": "No temporal leakage (test data not earlier than training data)",
    "non_independence": "Train and test are independent (no shared subjects or groups)",
    "sampling_bias": "The test set is sampled like the population of interest",
}
LEAKAGE_STATES = ("checked", "not-applicable", "unknown")

DECLARATION_KEYS: dict[str, str] = {
    "dataset_license": "Dataset licence",
    "dataset_source": "Dataset source (URI, DOI or provenance)",
    "split_method": "Split method (random, grouped, temporal ...)",
    "n_runs": "Number of runs behind reported numbers",
    "dataset_version": "Dataset version",
    "preprocessing": "Preprocessing steps",
    "hyperparameter_search": "Hyper-parameter search (space, trials, selection)",
    "notes": "Notes",
}
REQUIRED_DECLARATIONS = ("dataset_license", "dataset_source", "split_method", "n_runs")


def validate_declarations(declarations: Mapping[str, Any]) -> dict[str, Any]:
    """Check names and values of user declarations; raise a :class:`UsageError` naming the bad one."""
    out: dict[str, Any] = {}
    for key, value in declarations.items():
        if key == "leakage":
            if not isinstance(value, Mapping):
                raise UsageError("declaration 'leakage' must map leakage items to a state")
            leakage = {}
            for item, state in value.items():
                if item not in LEAKAGE_ITEMS:
                    raise UsageError(f"unknown leakage item {item!r} (known: {', '.join(LEAKAGE_ITEMS)})")
                if state not in LEAKAGE_STATES:
                    raise UsageError(f"leakage item {item!r}: state must be one of {', '.join(LEAKAGE_STATES)}, not {state!r}")
                leakage[item] = state
            out["leakage"] = leakage
        elif key in DECLARATION_KEYS:
            if key == "n_runs":
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    raise UsageError(f"declaration 'n_runs' must be a whole number, not {value!r}") from None
                if value < 1:
                    raise UsageError("declaration 'n_runs' must be at least 1")
            elif not isinstance(value, (str, int, float)):
                raise UsageError(f"declaration {key!r} must be text or a number")
            out[key] = value
        else:
            raise UsageError(f"unknown declaration {key!r} (known: {', '.join([*DECLARATION_KEYS, 'leakage'])})")
    return out


def _auto_items() -> list[tuple[str, str, Callable[[dict[str, Any]], str]]]:
    def git(run: dict[str, Any]) -> dict[str, Any]:
        return (run.get("code") or {}).get("git") or {}

    def env(run: dict[str, Any]) -> dict[str, Any]:
        return run.get("environment") or {}

    def rnd(run: dict[str, Any]) -> dict[str, Any]:
        return run.get("randomness") or {}

    def ok(cond: Any) -> str:
        return "ok" if cond else "missing"

    return [
        ("code.commit", "Code version (git commit)", lambda r: ok(git(r).get("commit"))),
        ("code.changes", "Uncommitted changes hashed", lambda r: ok(git(r))),
        ("code.entry_point", "Entry point and arguments", lambda r: ok(((r.get("code") or {}).get("entry_point") or {}).get("sha256") or ((r.get("code") or {}).get("entry_point") or {}).get("module"))),
        ("env.packages", "Installed packages and versions", lambda r: ok(env(r).get("packages"))),
        ("env.lockfile", "Dependency lockfile hashed", lambda r: ok(env(r).get("lockfiles"))),
        ("env.hardware", "Hardware (CPU, RAM, GPU)", lambda r: ok((env(r).get("hardware") or {}).get("cpu_model"))),
        ("random.seed", "Random seed recorded", lambda r: ok(r.get("seed") is not None or rnd(r).get("seeded"))),
        ("random.determinism", "Determinism switches in force", lambda r: "ok" if rnd(r).get("torch") else ("n/a" if not (env(r).get("torch")) else "missing")),
        ("data.hashes", "Input data hashed", lambda r: ok(r.get("inputs"))),
        ("data.held_out", "Held-out evaluation data identified", lambda r: ok(any(i.get("role") in ("test", "validation") for i in r.get("inputs") or []))),
        ("params", "Hyper-parameters recorded", lambda r: ok(r.get("params"))),
        ("results.metrics", "Metrics reported", lambda r: ok(r.get("metrics"))),
        ("outputs.model", "Learned parameters or outputs hashed", lambda r: ok(r.get("models") or r.get("outputs"))),
    ]


def _measured(run: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Items the integrations measured (splits, labels, duplicates, searches): they replace the
    declared item of the same id, with source ``measured``; found leakage is ``failed``."""
    out: dict[str, dict[str, Any]] = {}
    splits = run.get("splits") or []
    if splits:
        methods = "; ".join(f"{s['method']} ({_sizes(s)})" for s in splits)
        out["declared.split_method"] = {"id": "declared.split_method", "title": DECLARATION_KEYS["split_method"], "source": "measured", "status": "ok", "value": methods}
        labelled = [(n, v["labels"]) for s in splits for n, v in s["splits"].items() if v.get("labels")]
        if labelled:
            value = "; ".join(f"{n} {labels}" for n, labels in labelled[:4]) + (f" (+{len(labelled) - 4} more)" if len(labelled) > 4 else "")
            out["data.labels"] = {"id": "data.labels", "title": "Label distribution per split", "source": "measured", "status": "ok", "value": value}
        checked = [s["duplicates"] for s in splits if "duplicates" in s]
        if checked:
            rows = sum(d["rows"] for d in checked)
            pairs = ", ".join(f"{p}: {n}" for d in checked for p, n in d["pairs"].items() if n)
            out["leakage.duplicates_across_splits"] = {"id": "leakage.duplicates_across_splits", "title": LEAKAGE_ITEMS["duplicates_across_splits"], "source": "measured",
                                                       "status": "ok" if rows == 0 else "failed", "value": "no feature row in two splits" if rows == 0 else f"{rows} rows in two splits ({pairs})"}
    searches = run.get("search") or []
    if searches:
        value = "; ".join(f"{s['method']}: {s['n_trials']} trials over {', '.join(s['space']) if isinstance(s['space'], dict) else 'a list of grids'}" for s in searches)
        out["declared.hyperparameter_search"] = {"id": "declared.hyperparameter_search", "title": DECLARATION_KEYS["hyperparameter_search"], "source": "measured", "status": "ok", "value": value}
    return out


def _sizes(split: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} {entry['size']}" for name, entry in split["splits"].items())


def build_checklist(run: Mapping[str, Any]) -> dict[str, Any]:
    """The checklist of a run, from the merged start and end bodies."""
    data = dict(run)
    items: list[dict[str, Any]] = []
    for item_id, title, judge in _auto_items():
        items.append({"id": item_id, "title": title, "source": "auto", "status": judge(data)})
    declared = data.get("declarations") or {}
    measured = _measured(data)
    for key in REQUIRED_DECLARATIONS:
        value = declared.get(key)
        item_id = f"declared.{key}"
        item = {"id": item_id, "title": DECLARATION_KEYS[key], "source": "declared", "status": "ok" if value not in (None, "") else "undeclared", "value": value}
        items.append(measured.get(item_id, item))
    leakage = declared.get("leakage") or {}
    for key, title in LEAKAGE_ITEMS.items():
        state = leakage.get(key)
        status = "ok" if state in ("checked", "not-applicable") else (state or "undeclared")
        item_id = f"leakage.{key}"
        item = {"id": item_id, "title": title, "source": "declared", "status": status, "value": state}
        items.append(measured.get(item_id, item))
    items += [measured[k] for k in ("data.labels", "declared.hyperparameter_search") if k in measured]
    applicable = [i for i in items if i["status"] != "n/a"]
    satisfied = sum(1 for i in applicable if i["status"] == "ok")
    for item in items:
        if item.get("value") is None:
            item.pop("value", None)
    return {
        "standards": list(STANDARDS),
        "items": items,
        "satisfied": satisfied,
        "applicable": len(applicable),
        "score": round(satisfied / len(applicable), 3) if applicable else 0.0,
    }
