"""The agent screen: screen.py (layout, panes, search, start-up), customer_view.py (the
customer and their history), call_flow.py (the call, the screen pop, offers), drafts.py (the
draft keeper)."""

from console.screens.agent.customer_view import FIRST_PAGE
from console.screens.agent.screen import AgentScreen

__all__ = ["FIRST_PAGE", "AgentScreen"]
