"""Same seed, same bytes; bad parameters fail in one line and leave nothing behind."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from unionhall.errors import UserError
from unionhall.synth import MessRates, SynthParams, SynthSummary, generate, pipeline
from unionhall.synth.cli import synth_command


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_writes_byte_identical_files(small_state: tuple[Path, SynthSummary], tmp_path: Path) -> None:
    first, _ = small_state
    again = tmp_path / "again"
    generate(SynthParams(voters=3_000, members=600, seed=7), again)
    a, b = tree_hashes(first), tree_hashes(again)
    assert a.keys() == b.keys()
    assert any(k.endswith(".xlsx") for k in a)
    assert a == b


def test_another_seed_writes_other_data(small_state: tuple[Path, SynthSummary], tmp_path: Path) -> None:
    first, _ = small_state
    other = tmp_path / "other"
    generate(SynthParams(voters=3_000, members=600, seed=8), other)
    a, b = tree_hashes(first), tree_hashes(other)
    assert a["ncvoter_synth.txt"] != b["ncvoter_synth.txt"]
    assert a["truth/member_records.parquet"] != b["truth/member_records.parquet"]


def test_manifest_lists_what_was_written(small_state: tuple[Path, SynthSummary]) -> None:
    out, _ = small_state
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["params"]["seed"] == 7
    assert manifest["counts"]["voters"] == 3_000
    assert manifest["generator_version"]
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == on_disk
    assert {f["format"] for f in manifest["member_files"]} == {"csv", "tsv", "xlsx"}
    assert len(manifest["absentee_files"]) == 12


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        (SynthParams(voters=-5), "--voters"),
        (SynthParams(voters=3_000, members=-1), "--members"),
        (SynthParams(voters=3_000, members=600, affiliates=12), "--affiliates"),
        (SynthParams(voters=3_000, members=600, mess=MessRates(typo=1.5)), "typo"),
        (SynthParams(voters=3_000, members=600, mess=MessRates(moved=-0.1)), "moved"),
        (SynthParams(voters=3_000, members=2_000), "more than"),
        (SynthParams(voters=3_000, members=600, seed=-1), "--seed"),
    ],
)
def test_bad_parameters_raise_one_line_user_error(params: SynthParams, fragment: str, tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        generate(params, tmp_path / "out")
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_existing_non_empty_out_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        generate(SynthParams(voters=3_000, members=600), out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_failure_midway_leaves_no_partial_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "build_members", boom)
    with pytest.raises(RuntimeError):
        generate(SynthParams(voters=3_000, members=600), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("synth")(synth_command)

    @app.callback()
    def _root() -> None:
        """Test harness."""

    return app


def test_cli_writes_state_and_prints_json(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        _app(), ["synth", "--voters", "2000", "--members", "300", "--seed", "3", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["counts"]["voters"] == 2_000
    assert (out / "ncvoter_synth.txt").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--voters", "-10"],
        ["--typo", "2"],
        ["--voters", "2000", "--members", "1000"],
    ],
)
def test_cli_bad_input_is_a_user_error_with_nothing_written(args: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["synth", *args, "--out", str(tmp_path / "x")])
    assert result.exit_code != 0
    assert isinstance(result.exception, UserError)
    assert list(tmp_path.iterdir()) == []


def test_cli_mess_file(tmp_path: Path) -> None:
    bad = tmp_path / "mess.json"
    bad.write_text(json.dumps({"typo": 0.1, "sparkle": 0.2}))
    result = CliRunner().invoke(_app(), ["synth", "--mess", str(bad), "--out", str(tmp_path / "y")])
    assert isinstance(result.exception, UserError)
    assert "sparkle" in str(result.exception)


@pytest.mark.slow
def test_default_demo_size(tmp_path: Path) -> None:
    summary = generate(SynthParams(), tmp_path / "demo")
    assert summary.counts["voters"] == 200_000
    assert summary.counts["members"] == 30_000
    assert summary.counts["member_records"] == round(30_000 * (1 + MessRates().dual_member))
    assert (tmp_path / "demo" / "ncvoter_synth.txt").stat().st_size > 50_000_000
