"""TeamAgent: one negotiating side as a Mesa agent.

The agent holds its side's state (effective parameters after events, its
aspiration, the utilities of offers it has received) and calls the pure
functions of :mod:`sim.negotiation` for every decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import mesa
import numpy as np

from sim.negotiation import acceptance, calendar, offers, tactics, utility

if TYPE_CHECKING:
    from sim.model.model import NegotiationModel
    from sim.world import PartyWorld


class Effective(NamedTuple):
    """A side's stance on a given day, after the events in force."""

    reservation: float
    beta: float
    lo: np.ndarray
    hi: np.ndarray
    floor: float  # least acceptable utility: reservation, or win-set if anticipated


class TeamAgent(mesa.Agent):
    """A negotiating team.

    Attributes:
        index: 0 or 1, the side's place in the scenario.
        key, label: The side's identifier and display name.
        params: Its parameters in this replication (a row of :class:`PartyWorld`).
        plan: Its concession plan for the current limits.
        effective: Its stance at the current meeting (after events).
        t: Normalised time toward its own deadline at the current meeting.
        aspiration: Target utility at the current meeting (NaN before the first).
        offer: The offer it makes at the current meeting, ``offer_utility`` its value.
        received: Own utilities of the opponent's offers, oldest first.
    """

    model: NegotiationModel

    def __init__(self, model: NegotiationModel, index: int, key: str, label: str, params: PartyWorld) -> None:
        super().__init__(model)
        self.index, self.key, self.label, self.params = index, key, label, params
        self.aspiration = np.nan
        self.received: list[float] = []
        self.effective: Effective | None = None
        self.plan: offers.ConcessionPlan | None = None
        self.offer = np.empty(0)
        self.offer_utility = np.nan
        self.t = 0.0
        # the decision functions are pure: memoise what only events can change
        self._effects: dict[bytes, Effective] = {}
        self._plans: dict[bytes, offers.ConcessionPlan] = {}

    def value(self, x: np.ndarray) -> float:
        """This side's (true) utility of outcome ``x``."""
        p = self.params
        return utility.utility(x, p.weights, p.best, p.worst)

    def apply_events(self, active_events: np.ndarray) -> None:
        """Set the side's stance from the events in force (called when they change)."""
        p, m = self.params, self.model
        key = active_events.tobytes()
        if key not in self._effects:
            lo, hi = np.empty(len(p.lo)), np.empty(len(p.hi))
            r, beta = calendar.apply_events(
                active_events, p.reservation, p.beta, p.lo, p.hi, p.event_reservation,
                p.event_beta_factor, p.event_lo_shift, p.event_hi_shift, m.bound_lo, m.bound_hi, lo, hi,
            )
            floor = utility.acceptance_floor(r, p.win_set, p.anticipates_ratification)
            self._effects[key] = Effective(r, beta, lo, hi, floor)
        self.effective = self._effects[key]

    def replan(self, opponent: TeamAgent) -> None:
        """Recompute the concession plan for the current limits of both sides."""
        p, o, eff, opp = self.params, opponent.params, self.effective, opponent.effective
        key = eff.lo.tobytes() + eff.hi.tobytes() + opp.lo.tobytes() + opp.hi.tobytes()
        if key not in self._plans:
            lo, hi = np.empty(len(eff.lo)), np.empty(len(eff.hi))
            offers.offer_region(eff.lo, eff.hi, opp.lo, opp.hi, p.knows_opponent_limits, lo, hi)
            self._plans[key] = offers.ConcessionPlan.build(
                p.weights, p.best, p.worst, p.believed_weights, o.best, o.worst, lo, hi)
        self.plan = self._plans[key]

    def zeuthen_risks(self, opponent: TeamAgent) -> tuple[float, float]:
        """Zeuthen's risk limits, own and (as believed) the opponent's, at both sides' last
        offers (NaN unless this side plays Zeuthen and both have offered)."""
        p = self.params
        if p.tactic != tactics.ZEUTHEN or not len(self.offer):
            return np.nan, np.nan
        return tactics.zeuthen_risks(self.offer, opponent.offer, p.weights, p.best, p.worst, p.believed_weights,
                                     opponent.params.best, opponent.params.worst, self.effective.reservation,
                                     p.believed_opponent_reservation)

    def prepare_offer(self, day: int, risks: tuple[float, float] = (np.nan, np.nan)) -> None:
        """Set this meeting's time, aspiration and the offer that meets it (``risks``: see
        :meth:`zeuthen_risks`, taken before either side moves)."""
        p, eff = self.params, self.effective
        move = self.received[-1] - self.received[-2] if len(self.received) >= 2 else np.nan
        self.offer = np.empty(len(p.weights))  # a new array: earlier offers stay in the history
        self.t, self.aspiration, self.offer_utility = offers.make_offer(
            float(day), p.deadline, p.tactic, p.kappa, eff.beta, p.family, p.reciprocity, p.min_step,
            eff.floor, self.aspiration, move, *self.plan, self.model.integer, p.weights, p.best, p.worst,
            self.offer, *risks,
        )

    def receive(self, x: np.ndarray) -> bool:
        """Take note of the opponent's offer ``x`` and decide whether to accept it."""
        p, eff = self.params, self.effective
        u, accept = acceptance.evaluate_offer(
            x, p.weights, p.best, p.worst, eff.lo, eff.hi, p.rule, self.offer_utility, eff.floor,
            p.accept_alpha, p.accept_beta, p.accept_level,
        )
        self.received.append(u)
        return accept

    def walks_away(self) -> bool:
        """Whether the side leaves the table before this meeting's exchange."""
        if not self.received:
            return False
        return acceptance.walks_away(self.t, self.received[-1], self.effective.reservation, self.params.walk_away_gap)

    def takes_summit_deal(self, x: np.ndarray, max_gap: float) -> bool:
        """Whether this side's leader signs up to the split-the-difference package ``x``."""
        p, eff = self.params, self.effective
        return calendar.summit_accepts(x, p.weights, p.best, p.worst, eff.lo, eff.hi, self.aspiration, eff.floor, max_gap)
