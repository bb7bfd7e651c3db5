"""The command palette on the agent screen: the actions that make sense right now."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class AgentCommands(Provider):
    """Every enabled key binding of the current screen, by its description."""

    def _commands(self) -> list[tuple[str, str, str, object]]:
        screen = self.screen
        seen: set[str] = set()
        found = []
        for active in screen.active_bindings.values():
            binding = active.binding
            if not active.enabled or not binding.description or binding.action in seen:
                continue
            if screen.check_action(binding.action.split("(")[0], ()) is False:
                continue
            seen.add(binding.action)
            key = self.app.get_key_display(binding)
            found.append(
                (binding.description, f"{key} · {binding.tooltip}", binding.action, active.node)
            )
        return found

    async def discover(self) -> Hits:
        for name, help_text, action, node in self._commands():
            yield DiscoveryHit(name, partial(self.app.run_action, action, node), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action, node in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(name),
                    partial(self.app.run_action, action, node),
                    help=help_text,
                )
