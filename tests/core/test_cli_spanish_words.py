"""The commands a supervisor runs, read in Spanish: agents, rules check, privacy, duplicates.

The words change with the language; the JSON (field names, roles, states, codes) never does.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner, Result

from console.cli import frontline
from console.commands.i18n import speak_click
from core.i18n import using
from core.models import Customer


def run(language: str, *args: str, url: str = "sqlite://", agent: str = "") -> Result:
    speak_click()
    env = {
        "FRONTLINE_DATABASE_URL": url,
        "FRONTLINE_ENV_FILE": "/nonexistent",
        "FRONTLINE_TRUST_AGENT_ENV": "1" if agent else "0",
        "FRONTLINE_AGENT": agent,
        "USER": "somebody-else",
    }
    with using(language):
        return CliRunner().invoke(frontline, list(args), env=env)


def test_agents_list_reads_in_spanish_and_its_json_does_not_change(db_url: str) -> None:
    # The test runs as root: the machine's administrator, who makes the first supervisor.
    added = run("es", "agents", "add", "sara", "--role", "supervisor", url=db_url)
    assert added.exit_code == 0 and "sara añadido con el rol supervisor" in added.output
    run("es", "agents", "add", "luis", url=db_url)
    listed = run("es", "agents", "list", url=db_url, agent="sara")
    assert listed.exit_code == 0, listed.output
    heading, *rows = listed.output.splitlines()
    assert heading.split() == ["Usuario", "Rol", "Estado"]
    assert rows[0].split() == ["luis", "agente", "desconectado"]
    english = run("en", "agents", "list", url=db_url, agent="sara").output
    assert english.splitlines()[0].split() == ["User", "Role", "State"]
    in_spanish = json.loads(run("es", "agents", "list", "--json", url=db_url, agent="sara").output)
    in_english = json.loads(run("en", "agents", "list", "--json", url=db_url, agent="sara").output)
    assert in_spanish == in_english
    assert in_spanish[0] == {
        "user_name": "luis", "display_name": "luis", "role": "agent", "state": "offline"
    }  # fmt: skip


def test_a_refused_agent_is_told_in_spanish_what_and_which_role(db_url: str) -> None:
    run("es", "agents", "add", "luis", url=db_url)
    refused = run("es", "agents", "list", url=db_url, agent="luis")
    assert refused.exit_code == 1
    assert "luis (agente) no puede listar agentes: necesita el rol supervisor" in refused.output
    assert "frontline agents set-role" in refused.output


def _broken_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "reglas.toml"
    rules.write_text(
        'version = "1"\n'
        "[[offer]]\n"
        'id = "fibra"\n'
        'title = "Fibra"\n'
        'script = "Le ofrezco fibra."\n'
        'kind = "regalo"\n'
        "cooldown = 3\n",
        encoding="utf-8",
    )
    return rules


def test_rules_check_explains_a_broken_file_in_spanish_with_the_line(tmp_path: Path) -> None:
    rules = _broken_rules(tmp_path)
    result = run("es", "rules", "check", str(rules))
    assert result.exit_code == 1
    assert f"{rules}:6:8: kind debe ser uno de " in result.output
    assert f"{rules}:7:1: campo desconocido 'cooldown' en offer" in result.output
    assert "2 errores en" in result.output
    english = run("en", "rules", "check", str(rules)).output
    assert f"{rules}:6:8: kind must be one of " in english


def test_rules_check_json_keeps_its_fields_in_spanish(tmp_path: Path) -> None:
    rules = _broken_rules(tmp_path)
    spanish = json.loads(run("es", "rules", "check", "--json", str(rules)).output)
    english = json.loads(run("en", "rules", "check", "--json", str(rules)).output)
    assert spanish.keys() == english.keys() == {"file", "valid", "errors"}
    assert spanish["valid"] is False
    assert [(e["line"], e["column"]) for e in spanish["errors"]] == [
        (e["line"], e["column"]) for e in english["errors"]
    ]
    assert spanish["errors"][0]["message"].startswith("kind debe ser uno de")


def test_a_syntax_error_and_a_bad_date_in_spanish(tmp_path: Path) -> None:
    rules = tmp_path / "reglas.toml"
    rules.write_text('[[offer]]\nid = "x"\nvalid = { from = 2026-13-01 }\n', encoding="utf-8")
    result = run("es", "rules", "check", str(rules))
    assert f"{rules}:3:18: '2026-13-01' no es una fecha (escriba AAAA-MM-DD" in result.output
    rules.write_text("[[offer]\n", encoding="utf-8")
    assert "sintaxis TOML:" in run("es", "rules", "check", str(rules)).output


def test_erase_without_a_reason_says_why_in_spanish() -> None:
    result = run("es", "privacy", "erase", "C00000001", "--reason", "x", "--yes")
    assert result.exit_code == 2
    assert "indique el motivo (--reason TEXTO)" in result.output


def test_what_tells_duplicates_apart_reads_in_spanish() -> None:
    from core.services.duplicates import contact_shared, differences

    one = Customer(external_id="C1", first_name="Ana", last_name="Ruiz", city="Madrid")
    other = Customer(
        external_id="C2", first_name="Ana", last_name="Ruiz", city="Sevilla",
        birth_date=date(1980, 5, 1),
    )  # fmt: skip
    with using("es"):
        assert differences(one, other) == (
            "ciudad Madrid / Sevilla",
            "fecha de nacimiento - / 1980-05-01",
        )
        assert contact_shared("phone", "612345678") == "teléfono …612345678"
        assert contact_shared("email", "ana@example.es") == "correo ana@example.es"
    with using("en"):
        assert differences(one, other)[0] == "city Madrid / Sevilla"


def test_the_queue_figures_definitions_in_spanish() -> None:
    from core.calls.metrics import DEFINITIONS
    from core.i18n import words

    with using("es"):
        offered = words(DEFINITIONS["offered"])
        level = words(DEFINITIONS["service_level"]).format(t=20, short=5)
    assert offered == "Llamadas entradas en cola hoy."
    assert level.startswith("Atendidas en menos de 20 s")


def test_simulate_refuses_a_remote_api_in_spanish_and_its_help_is_spanish() -> None:
    refused = run("es", "simulate", "--url", "http://example.com:8080", "--token", "t")
    assert refused.exit_code == 1
    assert "el simulador solo habla con una API de esta máquina" in refused.output
    assert "Llamadas por segundo simulado." in run("es", "simulate", "--help").output


def test_a_condition_and_a_script_with_mistakes_are_explained_in_spanish(tmp_path: Path) -> None:
    rules = tmp_path / "reglas.toml"
    rules.write_text(
        "[[offer]]\n"
        'id = "fibra"\n'
        'title = "Fibra"\n'
        'script = "Hola {customer.frist_name}"\n'
        "[offer.when]\n"
        "mayor = \"customer.age > 'cuarenta'\"\n",
        encoding="utf-8",
    )
    output = run("es", "rules", "check", str(rules)).output
    assert f"{rules}:4:" in output
    assert "campo desconocido 'customer.frist_name' en el guion; ¿quiso decir" in output
    assert f"{rules}:6:" in output
    assert "condición 'mayor': tipo incorrecto: customer.age es un número entero" in output


def test_analytics_fit_points_at_the_bad_line_in_spanish(tmp_path: Path) -> None:
    path = tmp_path / "compras.csv"
    path.write_text("external_id,date,amount\nC00000001,2025-01-01,10.00\nC00000002,2025-02-01,x\n")
    args = ("analytics", "fit", "--transactions", str(path), "--calibration-end", "2025-06-30")
    spanish = run("es_ES", *args)
    assert spanish.exit_code == 1
    assert "línea 3: el importe 'x' no es un número" in spanish.output
    assert "línea 3: el monto 'x' no es un número" in run("es_MX", *args).output


def test_a_locked_database_is_explained_in_spanish() -> None:
    from core.lock_holders import LOCK_WAIT_VARIABLE, locked_message

    with using("es"):
        told = locked_message([], 1.5)
    assert told.startswith("la base de datos está bloqueada por otro proceso")
    assert "se esperó 1,5 s" in told and LOCK_WAIT_VARIABLE in told
