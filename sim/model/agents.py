"""TeamAgent: one negotiating side as a Mesa agent.

The agent holds its side's state (effective parameters after events, its
aspiration, the utilities of offers it has received) and calls the pure
functions of :mod:`sim.negotiation` for every decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import mesa
import numpy as np

from sim.negotiation import acceptance, offers, protocol, tactics, utility

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
        prefs: Its utility function; ``believed``: what it believes of the opponent's.
        plan: Its concession plan for the current limits.
        effective: Its stance at the current meeting (after events).
        t: Normalised time toward its own deadline at the current meeting.
        pressure: What it gives up at the current meeting to close before the public deadline.
        aspiration: Target utility at the current meeting (NaN before the first).
        offer: The offer it makes at the current meeting, ``offer_utility`` its value.
        received: Own utilities of the opponent's offers, oldest first.
    """

    model: NegotiationModel

    def __init__(self, model: NegotiationModel, index: int, key: str, label: str, params: PartyWorld[float],
                 opponent_params: PartyWorld[float]) -> None:
        super().__init__(model)
        self.index, self.key, self.label, self.params = index, key, label, params
        self.prefs = utility.Preferences(params.weights, params.best, params.worst)
        self.believed = utility.Preferences(params.believed_weights, opponent_params.best, opponent_params.worst)
        self.rule = acceptance.AcceptanceParams(int(params.rule), params.accept_alpha, params.accept_beta,
                                                params.accept_level)
        self.tactic = int(params.tactic)
        self.effects = protocol.EventEffects(params.event_reservation, params.event_beta_factor,
                                             params.event_lo_shift, params.event_hi_shift)
        self.aspiration = np.nan
        self.received: list[float] = []
        self.planned = np.full((2, len(params.weights)), np.nan)  # the limits the plan was made for
        self.effective = self._effective(np.zeros(len(params.event_reservation), dtype=bool))
        self.plan = offers.ConcessionPlan.build(self.prefs, self.believed, params.lo, params.hi)  # remade at meeting 1
        self.offer = np.empty(0)
        self.offer_utility = np.nan
        self.t = 0.0
        self.pressure = 0.0

    def value(self, x: np.ndarray) -> float:
        """This side's (true) utility of outcome ``x``."""
        return utility.utility(x, self.prefs)

    def opening(self) -> np.ndarray:
        """Its opening position: its standing offer before its first offer."""
        p = self.params
        return protocol.opening(p.best, p.lo, p.hi, np.empty(len(p.best)))

    def _effective(self, active_events: np.ndarray) -> Effective:
        p, m = self.params, self.model
        lo, hi = np.empty(len(p.lo)), np.empty(len(p.hi))
        r, beta = protocol.apply_events(active_events, p.reservation, p.beta, p.lo, p.hi, self.effects,
                                        m.bound_lo, m.bound_hi, lo, hi)
        return Effective(r, beta, lo, hi, utility.acceptance_floor(r, p.win_set, bool(p.anticipates_ratification)))

    def apply_events(self, active_events: np.ndarray) -> None:
        """Set the side's stance from the events in force (called when they change)."""
        self.effective = self._effective(active_events)

    def limits_changed(self) -> bool:
        """Whether its limits differ from those its plan was made for (see :func:`protocol.limits_changed`)."""
        return protocol.limits_changed(self.effective.lo, self.effective.hi, self.planned)

    def replan(self, opponent: TeamAgent) -> None:
        """Recompute the concession plan for the current limits of both sides."""
        eff, opp = self.effective, opponent.effective
        lo, hi = np.empty(len(eff.lo)), np.empty(len(eff.hi))
        offers.offer_region(eff.lo, eff.hi, opp.lo, opp.hi, bool(self.params.knows_opponent_limits), lo, hi)
        self.plan = offers.ConcessionPlan.build(self.prefs, self.believed, lo, hi)

    def zeuthen_risks(self, opponent: TeamAgent) -> tuple[float, float]:
        """Zeuthen's risk limits, own and (as believed) the opponent's, at both sides' last
        offers (NaN unless this side weighs them at this meeting, see :func:`protocol.zeuthen_applies`)."""
        p = self.params
        if not protocol.zeuthen_applies(self.tactic, self.model.rounds):
            return np.nan, np.nan
        return tactics.zeuthen_risks(self.offer, opponent.offer, self.prefs, self.believed,
                                     self.effective.reservation, p.believed_opponent_reservation)

    def prepare_offer(self, day: int, risks: tuple[float, float] = (np.nan, np.nan)) -> None:
        """Set this meeting's time, aspiration and the offer that meets it (``risks``: see
        :meth:`zeuthen_risks`, taken before either side moves)."""
        p, eff = self.params, self.effective
        n = len(self.received)
        move = protocol.opponent_move(self.received[-1] if n else np.nan, self.received[-2] if n >= 2 else np.nan, n)
        tactic = tactics.TacticParams(self.tactic, int(p.family), p.kappa, eff.beta, p.reciprocity, p.min_step,
                                      p.spread)
        self.offer = np.empty(len(p.weights))  # a new array: earlier offers stay in the history
        w = self.model.world
        self.pressure = protocol.pressure_on(float(day), float(self.model.spec.summit_day), w.event_day,
                                             w.deadline_shift, p.deadline_cost, p.deadline_window)
        self.t, self.aspiration, self.offer_utility = offers.make_offer(
            float(day), p.deadline, tactic, eff.floor, self.aspiration, move, self.plan, self.model.integer,
            self.prefs, self.offer, *risks, self.pressure)

    def receive(self, x: np.ndarray) -> bool:
        """Take note of the opponent's offer ``x`` and decide whether to accept it."""
        eff = self.effective
        u, accept = acceptance.evaluate_offer(x, self.prefs, eff.lo, eff.hi, self.rule, self.offer_utility, eff.floor)
        self.received.append(u)
        return accept

    def walks_away(self) -> bool:
        """Whether the side leaves the table before this meeting's exchange."""
        if not self.received:
            return False
        return acceptance.walks_away(self.t, self.received[-1], self.effective.reservation, self.params.walk_away_gap)

    def takes_summit_deal(self, x: np.ndarray, max_gap: float) -> bool:
        """Whether this side's leader signs up to the split-the-difference package ``x``."""
        eff = self.effective
        return protocol.summit_accepts(x, self.prefs, eff.lo, eff.hi, self.aspiration, eff.floor, max_gap,
                                       self.pressure)
