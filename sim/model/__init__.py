"""The Mesa engine: the reference implementation people read and trace."""

from sim.model.agents import TeamAgent
from sim.model.model import NegotiationModel

__all__ = ["NegotiationModel", "TeamAgent"]
