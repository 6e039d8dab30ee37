"""The Mesa engine: the reference implementation people read and trace."""

from sim.model.agents import TeamAgent
from sim.model.model import NegotiationModel, run_worlds

__all__ = ["NegotiationModel", "TeamAgent", "run_worlds"]
