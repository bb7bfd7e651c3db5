"""Calls: the agent's side (lifecycle, drafts) and the phone system's (events, queue, metrics)."""
