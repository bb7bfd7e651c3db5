"""The command line in the reader's language: its help, click's own words, the look-up card."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from console.cli import frontline
from console.commands.i18n import speak_click
from console.commands.lookup import _lines
from core.i18n import using

FRONTLINE = str(Path(sys.executable).with_name("frontline"))


def _invoke(language: str, *args: str) -> str:
    """The command as a person runs it: its own process, its language from the environment
    (click keeps a command's --help option once made, so one process speaks one language)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FRONTLINE_")},
        "FRONTLINE_LANGUAGE": language,
        "FRONTLINE_ENV_FILE": "/nonexistent",
        "FRONTLINE_DATABASE_URL": "sqlite://",
    }
    done = subprocess.run([FRONTLINE, *args], env=env, capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


def test_help_and_click_words_follow_the_language() -> None:
    spanish = _invoke("es_ES", "lookup", "--help")
    missing = _invoke("es_ES", "lookup")
    assert spanish.startswith("Uso: frontline lookup")
    assert "Imprimir la ficha o la lista en JSON." in spanish
    assert "Mostrar este mensaje y salir." in spanish
    assert "Falta un argumento 'QUERY'" in missing
    english = _invoke("en", "lookup", "--help")
    assert english.startswith("Usage: frontline lookup")
    assert "Print the card or list as JSON." in english
    assert "Show this message and exit." in english


def test_the_lookup_card_in_spanish_and_in_english() -> None:
    payload = {
        "card": {
            "name": "Ana Ruiz",
            "external_id": "C00000001",
            "tier": "Gold",
            "points": 12345,
            "city": "Sevilla",
            "phone": "6•• ••• •78",
            "email": "",
            "recent": [
                {
                    "at": datetime(2026, 12, 15, 9, 30, tzinfo=UTC),
                    "channel": "phone",
                    "direction": "inbound",
                    "subject": "Reclamación",
                    "outcome": "resolved",
                }
            ],
        },
        "results": [{}],
    }
    with using("es_ES"):
        spanish = "\n".join(text for _style, text in _lines(payload))
    assert "Nivel" in spanish and "Gold · 12.345 pts" in spanish
    assert "Ciudad" in spanish and "Últimos contactos" in spanish
    assert "15/12/26" in spanish and "Resuelta" in spanish
    with using("en_US"):
        english = "\n".join(text for _style, text in _lines(payload))
    assert "Latest contacts" in english and "12/15/26" in english and "Resolved" in english


def test_the_import_summary_and_its_rejects_in_spanish(tmp_path: Path) -> None:
    csv = tmp_path / "clientes.csv"
    csv.write_text(
        "external_id,first_name,last_name,email\n"
        "C00000001,María,García,maria@example.com\n"
        "C00000002,Luis,Pérez,no-es-un-correo\n",
        encoding="utf-8",
    )
    env = {
        "FRONTLINE_ENV_FILE": "/nonexistent",
        "FRONTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'f.db'}",
        "FRONTLINE_DATA_DIR": str(tmp_path),
    }
    speak_click()
    with using("es_ES"):
        result = CliRunner().invoke(frontline, ["import", "customers", str(csv)], env=env)
    assert result.exit_code == 1, result.output
    assert "no es una dirección de correo en email: 'no-es-un-correo'" in result.output
    assert "importadas 1, rechazadas 1, rechazadas en" in result.output
