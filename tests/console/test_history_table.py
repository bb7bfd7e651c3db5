"""The history table shows imported text as written: no markup, no terminal escapes."""

from __future__ import annotations

from textual.app import App, ComposeResult

from console.widgets.history_table import Cell, Column, HistoryTable

COLUMNS = (Column("subject", "Subject", 30), Column("channel", "Chan.", 12))


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield HistoryTable(COLUMNS)


async def test_subjects_and_channels_from_a_file_are_shown_literally() -> None:
    async with TableApp().run_test(size=(60, 10)) as pilot:
        table = pilot.app.query_one(HistoryTable)
        table.add_rows([(Cell("[red]refund[/red]\x1b[2J"), Cell("web\x1b]0;x\x07", "cyan"))])
        await pilot.pause()
        line = table.render_lines(table.region.reset_offset)[1].text
        assert "[red]refund[/red]␛[2J" in line
        assert "web␛]0;x␇" in line
        assert "\x1b" not in line and "\x07" not in line
