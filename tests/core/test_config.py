"""Settings: typed sections parsed once, bad values named, misspelt variables reported."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.config import Settings, SettingsError, load_settings, parse_settings, with_values
from core.config_readers import PREFIX, VARIABLES


def test_every_section_is_typed_from_its_variables(tmp_path: Path) -> None:
    settings = parse_settings(
        {
            "FRONTLINE_DATA_DIR": str(tmp_path),
            "FRONTLINE_SERVICE_LEVEL_SECONDS": "30",
            "FRONTLINE_CALL_REASONS": "billing, sales ,",
            "FRONTLINE_SHORT_ABANDON_SECONDS": "8",
            "FRONTLINE_THRESHOLD_ASA": "15, 30",
            "FRONTLINE_QUALITY_CRITERIA": "Greeting:2; Tone:1",
            "FRONTLINE_CLV_HORIZON_MONTHS": "24",
            "FRONTLINE_WALLET_ESTIMATE": "mobile:600,fibre=400",
            "FRONTLINE_KEYMAP": "answer-call=f6;search=f2,ctrl+f",
            "FRONTLINE_API_MAX_BODY_BYTES": "2048",
            "PATH": "/usr/bin",
        }
    )
    assert settings.data_dir == tmp_path
    assert settings.service_level_seconds == 30
    assert settings.call_reasons == ("billing", "sales")
    assert settings.calls.short_abandon_seconds == 8
    assert dict(settings.calls.thresholds) == {"asa": (15.0, 30.0)}
    assert settings.calls.quality_criteria == (("Greeting", 2), ("Tone", 1))
    assert settings.analytics.clv_horizon_months == 24
    assert dict(settings.analytics.wallet_estimate) == {"mobile": 600.0, "fibre": 400.0}
    assert dict(settings.console.keymap) == {"answer-call": "f6", "search": "f2,ctrl+f"}
    assert settings.api.max_body_bytes == 2048
    assert settings.warnings == ()


def test_unset_and_empty_values_keep_the_defaults() -> None:
    settings = parse_settings({"FRONTLINE_CLV_FIT_SAMPLE": "", "FRONTLINE_DATABASE_URL": ""})
    assert settings == Settings(data_dir=settings.data_dir)
    assert settings.analytics.clv_fit_sample == 200_000
    assert settings.calls.long_handle_seconds == 600


def test_a_bad_value_stops_the_start_naming_the_variable_and_the_value() -> None:
    with pytest.raises(SettingsError) as raised:
        parse_settings({"FRONTLINE_CLV_HORIZON_MONTHS": "x", "FRONTLINE_THRESHOLD_WAITING": "5"})
    assert str(raised.value).splitlines() == [
        "FRONTLINE_CLV_HORIZON_MONTHS: expected a whole number, got 'x'",
        "FRONTLINE_THRESHOLD_WAITING: expected 'warn,alert', got '5'",
    ]


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("TIER_THRESHOLDS", "Silver:100,Gold:200", "the lowest tier must start at 0"),
        ("RFM_FREQUENCY_BANDS", "3,2,1", "four increasing purchase counts"),
        ("SERVICE_LEVEL_SECONDS", "-1", "must not be negative"),
        ("API_MAX_BODY_BYTES", "0", "must be at least 1"),
        ("KEYMAP", "f6", "expected id=key"),
        ("TIMEZONE", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("API_URL", "127.0.0.1:8080", "expected an http:// or https:// address"),
    ],
)
def test_each_rule_of_a_value_is_checked_at_start(name: str, value: str, problem: str) -> None:
    with pytest.raises(SettingsError, match=f"^FRONTLINE_{name}: {problem}"):
        parse_settings({f"FRONTLINE_{name}": value})


def test_a_misspelt_variable_is_reported_with_the_nearest_name() -> None:
    settings = parse_settings(
        {
            "FRONTLINE_DATABSE_URL": "sqlite+aiosqlite:///x.db",
            "FRONTLINE_COLOUR": "blue",
            "FRONTLINE_ENV_FILE": "other.env",
        }
    )
    assert settings.database_url == ""  # the typo is not taken for the real name
    assert settings.warnings == (
        "FRONTLINE_COLOUR is not a Frontline setting and is ignored: "
        "see .env.example for the settings",
        "FRONTLINE_DATABSE_URL is not a Frontline setting and is ignored: "
        "did you mean FRONTLINE_DATABASE_URL?",
    )


def test_the_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / "frontline.env"
    env_file.write_text(
        "# a comment\n"
        "FRONTLINE_AGENT=maria\n"
        "FRONTLINE_TIMEZONE=Europe/Madrid\n"
        "FRONTLINE_THRESHOLD_AHT=300,500\n"
        "FRONTLINE_RULES_FIEL=rules.toml\n"
    )
    settings = load_settings({"FRONTLINE_AGENT": "juan"}, env_file=env_file)
    assert (settings.agent, settings.timezone) == ("juan", "Europe/Madrid")
    assert settings.calls.thresholds["aht"] == (300.0, 500.0)
    assert settings.warnings == (
        f"FRONTLINE_RULES_FIEL (in {env_file}) is not a Frontline setting and is ignored: "
        "did you mean FRONTLINE_RULES_FILE?",
    )


def test_the_env_file_can_be_named_by_a_variable(tmp_path: Path) -> None:
    env_file = tmp_path / "elsewhere.env"
    env_file.write_text("FRONTLINE_CLV_FIT_SAMPLE=bad\n")
    with pytest.raises(SettingsError, match="FRONTLINE_CLV_FIT_SAMPLE: expected a whole number"):
        load_settings({"FRONTLINE_ENV_FILE": str(env_file)})
    assert load_settings({"FRONTLINE_ENV_FILE": str(tmp_path / "none.env")}).warnings == ()


def test_values_set_again_keep_the_rest_of_their_section() -> None:
    base = parse_settings(
        {"FRONTLINE_THRESHOLD_ASA": "15,30", "FRONTLINE_LONG_HANDLE_SECONDS": "700"}
    )
    again = with_values(base, {"FRONTLINE_THRESHOLD_AHT": "300,500", "FRONTLINE_AGENT": "ana"})
    assert dict(again.calls.thresholds) == {"asa": (15.0, 30.0), "aht": (300.0, 500.0)}
    assert again.calls.long_handle_seconds == 700
    assert again.agent == "ana"


def test_env_example_documents_every_variable_and_reads_cleanly() -> None:
    example = Path(__file__).resolve().parents[2] / ".env.example"
    documented = set(re.findall(r"^(FRONTLINE_[A-Z_]+)=", example.read_text(), re.MULTILINE))
    assert documented == {PREFIX + name for name in VARIABLES}
    assert load_settings({}, env_file=example).warnings == ()


def test_the_command_line_reports_settings_problems_at_start(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from console.cli import frontline

    runner = CliRunner()
    env = {"FRONTLINE_ENV_FILE": str(tmp_path / "none.env"), "FRONTLINE_DATA_DIR": str(tmp_path)}
    bad = runner.invoke(frontline, ["db", "upgrade"], env={**env, "FRONTLINE_RFM_WINDOW_DAYS": "a"})
    assert bad.exit_code == 2
    assert "FRONTLINE_RFM_WINDOW_DAYS: expected a whole number, got 'a'" in bad.stderr
    typo = runner.invoke(frontline, ["db", "upgrade"], env={**env, "FRONTLINE_AGNET": "ana"})
    assert typo.exit_code == 0
    assert "FRONTLINE_AGNET is not a Frontline setting" in typo.stderr
    assert "did you mean FRONTLINE_AGENT?" in typo.stderr
