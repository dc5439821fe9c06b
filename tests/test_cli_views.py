"""CLI commands that show what is there: --version, summary, check-config."""

from click.testing import CliRunner

from pipelines.cli import main
from tokenomics import __version__


def _run(*args):
    return CliRunner().invoke(main, list(args))


def test_version():
    result = _run("--version")
    assert result.exit_code == 0 and result.output.strip() == f"tokenomics {__version__}"


def test_check_config_accepts_a_valid_file_and_names_the_bad_key(fixtures):
    ok = _run("check-config", str(fixtures / "config" / "full.yaml"))
    assert ok.exit_code == 0 and "ok" in ok.output, ok.output
    bad = _run("check-config", str(fixtures / "config" / "unknown_key.yaml"))
    assert bad.exit_code != 0 and "unknown key 'keys'" in bad.output and "Traceback" not in bad.output


def test_summary_reprints_the_published_month(company):
    result = _run("summary", "--home", str(company.root))
    assert result.exit_code == 0, result.output
    assert "Cost by team" in result.output and "total this month $" in result.output


def test_summary_without_a_warehouse_is_one_line(tmp_path):
    result = _run("summary", "--home", str(tmp_path))
    assert result.exit_code != 0 and "no warehouse" in result.output
