"""``bctrace export``: the exporter registry plugins extend, the built-in csv and jsonl tables, and
output that stays where the user said."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from bctrace.api import ExportedFile, ExporterRegistry, ExportRequest, hookimpl
from bctrace.testing import registered_plugin


def test_csv_is_one_row_per_step_in_trace_order(donation_trace: list[Path], cli) -> None:
    result = cli("export", *reversed(donation_trace), "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["trace"], r["seq"], r["kind"]) for r in rows] == [("donation-1", "0", "donation"), ("donation-1", "1", "transfer"),
                                                                   ("donation-1", "2", "file")]
    first = rows[0]
    assert first["body.amount"] == "25" and first["body.currency"] == "EUR"
    assert first["body.donor.name"] == "'=HYPERLINK(1)"  # a formula from a bundle is not run by a spreadsheet
    assert rows[1]["body.tags"] == '["a", "b"]' and rows[1]["prev"] == first["digest"]
    assert rows[2]["subjects"].startswith("receipt.pdf sha256:0x")
    assert all(r["anchors"].startswith("local (chain id ") for r in rows)


def test_jsonl_keeps_json_types_and_reads_folders(donation_trace: list[Path], cli) -> None:
    result = cli("export", donation_trace[0].parent, donation_trace[0], "--format", "jsonl")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["seq"] for r in rows] == [0, 1, 2]  # the bundle named twice is one row
    assert rows[0]["body.donor.name"] == "=HYPERLINK(1)" and rows[0]["signed"] is False


def test_an_edited_bundle_is_not_exported(donation_trace: list[Path], cli) -> None:
    data = json.loads(donation_trace[0].read_text())
    data["record"]["body"]["amount"] = "2500"
    donation_trace[0].write_text(json.dumps(data))
    result = cli("export", donation_trace[0], "--format", "csv")
    assert result.exit_code == 1 and "record edited" in result.stderr and result.stdout == ""


def test_output_to_a_file_or_folder(donation_trace: list[Path], cli, project: Path) -> None:
    assert cli("export", *donation_trace, "--format", "csv", "-o", "table.csv").exit_code == 0
    assert (project / "table.csv").read_text().startswith("trace,seq,kind,")
    result = cli("export", *donation_trace, "--format", "jsonl", "-o", "out/", "--json")
    assert json.loads(result.stdout) == {"files": ["out/records.jsonl"]}
    assert (project / "out" / "records.jsonl").read_text().count("\n") == 3


def test_unknown_format_is_one_line_naming_the_known_ones(donation_trace: list[Path], cli) -> None:
    result = cli("export", donation_trace[0], "--format", "xlsx")
    assert result.exit_code == 2 and "error: unknown export format 'xlsx' (known: csv, " in result.stderr


# -- a third-party format -----------------------------------------------------------------------


def _digests(request: ExportRequest) -> list[ExportedFile]:
    """A throwaway format: one file per record, named after its digest, plus an index."""
    files = [ExportedFile(f"records/{b.digest}.txt", (b.record["kind"] + "\n").encode()) for b in request.bundles]
    suffix = request.option("suffix", "")
    return [*files, ExportedFile("index.txt", ("\n".join(request.sources) + suffix).encode())]


def _plugin(**formats):
    @hookimpl
    def bctrace_register_exporters(registry: ExporterRegistry) -> None:
        for name, (function, description) in formats.items():
            registry.add(name, description, function)

    return SimpleNamespace(bctrace_register_exporters=bctrace_register_exporters)


def test_a_plugin_format_works_from_the_cli(donation_trace: list[Path], cli, project: Path) -> None:
    with registered_plugin(_plugin(digests=(_digests, "one text file per record")), name="throwaway"):
        assert "one text file per record" in cli("export", "--help").stdout
        result = cli("export", *donation_trace, "--format", "digests", "-o", "dump", "--option", "suffix=!")
        assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(project / "dump").as_posix() for p in (project / "dump").rglob("*.txt"))
    assert len(written) == 4 and "index.txt" in written
    assert (project / "dump" / "index.txt").read_text().endswith("!")
    assert cli("export", donation_trace[0], "--format", "digests").exit_code == 2  # gone with the plugin


@pytest.mark.parametrize("name", ["../escaped", "/tmp/escaped", "a/../../escaped", "a\\..\\escaped", ""])
def test_a_format_cannot_write_outside_the_named_folder(donation_trace: list[Path], cli, project: Path, name: str) -> None:
    def escape(request: ExportRequest) -> list[ExportedFile]:
        return [ExportedFile(name, b"x"), ExportedFile("ok.txt", b"y")]

    with registered_plugin(_plugin(escape=(escape, "tries to leave the folder")), name="careless"):
        result = cli("export", donation_trace[1], "--format", "escape", "-o", "out")
    assert result.exit_code == 2 and "would not stay inside the output folder" in result.stderr
    assert not (project / "out").exists() and not (project / "escaped").exists()


def test_a_format_name_taken_twice_names_both_plugins(donation_trace: list[Path], cli) -> None:
    with registered_plugin(_plugin(csv=(_digests, "another csv")), name="rival"):
        result = cli("export", donation_trace[0], "--format", "csv")
    assert result.exit_code == 0  # the built-in csv still works
    assert "plugin 'rival' registers export format 'csv', which plugin 'bctrace.exports.plugin' already registers" in result.stderr
