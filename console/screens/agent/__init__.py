"""The agent screen: screen.py (layout, panes, search, the customer), call_flow.py (the call,
the screen pop, offers), drafts.py (the draft keeper)."""

from console.screens.agent.screen import FIRST_PAGE, AgentScreen

__all__ = ["FIRST_PAGE", "AgentScreen"]
