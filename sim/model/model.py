"""NegotiationModel: one replication of a negotiation as a Mesa model.

The calendar is event-driven in the simplest way: the world lists the days
with a meeting, and each model step is one meeting, so quiet days cost
nothing. At a meeting both sides bring their current offer; the opener
proposes, the other side accepts or counter-proposes, and the opener accepts
or the meeting ends. On the summit day, if no offer was accepted, the
leaders may close a small remaining gap by splitting the difference.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any

import mesa
import numpy as np

from sim.model.agents import TeamAgent
from sim.negotiation import protocol, solutions
from sim.outcomes import SUMMIT_CLOSE, Outcomes, from_rows
from sim.scenario import Scenario
from sim.world import SCHEDULED, SUMMIT, World, Worlds


@dataclass
class Entry:
    """One line of a negotiation's history, for traces and the dance plot."""

    day: int
    kind: str  # meeting, offer, accept, summit, walk_away, event, no_deal
    party: int | None = None
    offer: np.ndarray | None = None
    utilities: tuple[float, float] | None = None
    text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class NegotiationModel(mesa.Model):
    """Two teams negotiating over an agenda until they agree, one walks away, or the horizon.

    Args:
        scenario: The validated scenario.
        world: One replication's world (see :meth:`sim.world.Worlds.rows`).
        trace: Keep a full history of offers and events (slower; for ``sim trace``).
    """

    def __init__(self, scenario: Scenario, world: World, *, trace: bool = False) -> None:
        super().__init__(rng=int(world.index))  # Mesa's own generators are never used
        self.spec, self.world, self.trace = scenario, world, trace
        self.bound_lo = np.array([i.low for i in scenario.issues])
        self.bound_hi = np.array([i.high for i in scenario.issues])
        self.integer = np.array([i.integer for i in scenario.issues])
        self.teams = [
            TeamAgent(self, k, spec.key, spec.label, world.parties[k], world.parties[1 - k])
            for k, spec in enumerate(scenario.parties)
        ]
        self.meeting_days = np.flatnonzero(world.meetings)
        self.event_day = world.event_day.astype(float)
        self._active = np.zeros(len(scenario.events), dtype=bool)  # events in force at the last meeting
        self.day = -1
        self.rounds = 0
        #: Each side's standing offer on the scenario's observation days (``[J, 2, I]``).
        self.standing = np.full((len(scenario.observation_days), 2, len(scenario.issues)), np.nan)
        self._observed = 0  # observation days written so far
        self.agreement: np.ndarray | None = None
        self.agreement_day = protocol.NOT_REACHED
        self.closed_by: str | None = None
        self.walked_away: str | None = None
        self.history: list[Entry] = []
        self._logged_until = -1  # events up to this day are already in the history
        self.running = len(self.meeting_days) > 0

    # ----------------------------------------------------------------- dynamics

    def _offers(self) -> np.ndarray:
        """Both sides' latest offers (``[2, I]``), or their openings before the first meeting."""
        return np.stack([team.offer if len(team.offer) else team.opening() for team in self.teams])

    def _record_standing(self, day: int) -> None:
        """Write the standing offers of the observation days before ``day``."""
        self._observed = protocol.record_standing(day, self.spec.observation_days_array, self._observed,
                                                  self._offers(), self.standing)

    def step(self) -> None:
        """Hold the next meeting."""
        day = int(self.meeting_days[self.rounds])
        self._record_standing(day)
        self.day, self.rounds = day, self.rounds + 1
        kind = int(self.world.meetings[day])
        changed = protocol.update_active(float(day), self.event_day, self.world.event_duration, self._active)
        if changed or self.rounds == 1:
            for team in self.teams:
                team.apply_events(self._active)
            moved = [team.limits_changed() for team in self.teams]  # both sides, always
            if self.rounds == 1 or any(moved):
                self.teams[0].replan(self.teams[1])
                self.teams[1].replan(self.teams[0])
        a, b = self.teams
        risks = (a.zeuthen_risks(b), b.zeuthen_risks(a))  # both before either moves
        for team, risk in zip(self.teams, risks, strict=True):
            team.prepare_offer(day, risk)
        if self.trace:
            self._log_meeting(day, kind)

        for team in self.teams:
            if team.walks_away():
                self.walked_away = team.key
                self._log(day, "walk_away", team.index, text=f"{team.label} walks away")
                self.running = False
                return

        first = protocol.opener(self.spec.first_mover, self.rounds)
        opener, responder = self.teams[first], self.teams[1 - first]
        if self.trace:
            self._log_offer(day, opener)
        if responder.receive(opener.offer):
            self._close(day, opener.offer, responder.key)
        else:
            if self.trace:
                self._log_offer(day, responder)
            if opener.receive(responder.offer):
                self._close(day, responder.offer, opener.key)
            elif kind == SUMMIT:
                self._summit(day)
        if self.agreement is None and self.rounds >= len(self.meeting_days):
            self.running = False

    def _summit(self, day: int) -> None:
        a, b = self.teams
        candidate = protocol.summit_candidate(a.offer, b.offer, self.integer)
        gap = float(self.world.summit_max_gap)
        if a.takes_summit_deal(candidate, gap) and b.takes_summit_deal(candidate, gap):
            self._close(day, candidate, "summit")
        else:
            self._log(day, "summit", None, candidate, text="leaders cannot bridge the gap")

    def _close(self, day: int, x: np.ndarray, by: str) -> None:
        self.agreement, self.agreement_day, self.closed_by = x, day, by
        self.running = False
        self._log(day, "accept", None, x, text=f"agreement in principle (closed by {by})")

    def run(self) -> dict[str, Any]:
        """Run to the end and return the outcome (see :meth:`outcome`)."""
        while self.running:
            self.step()
        return self.outcome()

    # ----------------------------------------------------------------- outcome

    def outcome(self) -> dict[str, Any]:
        """The replication's outcome: milestones, terms, utilities, efficiency, events.

        Keys: the fields of :class:`~sim.outcomes.Outcomes` (``closed_by`` and
        ``walked_away`` as codes: 0/1 a side, :data:`~sim.outcomes.SUMMIT_CLOSE`, −1 none),
        plus ``events``, the names of the events that fired by the close.
        """
        sc, w = self.spec, self.world
        a, b = self.teams
        n_issues = len(sc.issues)
        if not self.running:  # the talks are over: the last offers stand on every later observation day
            self._record_standing(protocol.NEVER)
        end_day = self.day if self.agreement is not None or self.walked_away else sc.horizon_day
        fired = [e.name for e, d in zip(sc.events, w.event_day, strict=True) if 0 <= d <= end_day]
        codes = {p.key: k for k, p in enumerate(sc.parties)} | {"summit": SUMMIT_CLOSE}
        result: dict[str, Any] = {
            "agreement_day": self.agreement_day, "signed_day": protocol.NOT_REACHED,
            "ratified_day": protocol.NOT_REACHED, "ratification_failed": False,
            "closed_by": codes.get(self.closed_by or "", -1), "walked_away": codes.get(self.walked_away or "", -1),
            "terms": np.full(n_issues, np.nan), "utilities": np.full(2, np.nan),
            "pareto_distance": np.nan, "nash_distance": np.nan,
            "rounds": self.rounds, "end_day": end_day, "standing": self.standing.copy(), "events": fired,
        }
        if self.agreement is None:
            return result
        pa, pb, ea, eb = a.params, b.params, a.effective, b.effective
        u_a, u_b, pareto, nash = solutions.agreement_quality(
            self.agreement, a.prefs, b.prefs, ea.lo, ea.hi, eb.lo, eb.hi, ea.reservation, eb.reservation,
            np.empty((7, n_issues)), np.empty((n_issues + 1, 2)))
        u = np.array([u_a, u_b])
        signed, ratified, failed = protocol.milestones(
            self.agreement_day, float(w.signing_delay), u,
            np.array([pa.win_set, pb.win_set]),
            np.array([pa.ratification_required, pb.ratification_required]),
            np.array([pa.ratification_delay, pb.ratification_delay]), sc.horizon_day,
        )
        result.update(
            signed_day=signed, ratified_day=ratified, ratification_failed=failed,
            terms=self.agreement.astype(float), utilities=u, pareto_distance=pareto, nash_distance=nash,
        )
        return result

    # ----------------------------------------------------------------- history

    def _log(self, day: int, kind: str, party: int | None, offer: np.ndarray | None = None,
             text: str = "", **extra: Any) -> None:
        if not self.trace:
            return
        utils = None if offer is None else (self.teams[0].value(offer), self.teams[1].value(offer))
        self.history.append(Entry(day, kind, party, None if offer is None else offer.copy(), utils, text, extra))

    def _log_offer(self, day: int, team: TeamAgent) -> None:
        self._log(day, "offer", team.index, team.offer, text=f"{team.label} offers",
                  aspiration=team.aspiration, t=team.t)

    def _log_meeting(self, day: int, kind: int) -> None:
        sc = self.spec
        label = "working-level contact"
        if kind == SUMMIT:
            label = sc.summit_label
        elif kind == SCHEDULED:
            label = next((m.label for m in sc.meetings if m.day == day), "scheduled round")
        for e, d in zip(sc.events, self.world.event_day, strict=False):
            if d >= 0 and self._logged_until < d <= day:
                self._log(int(d), "event", e.party, text=e.label)
        self._logged_until = day
        self._log(day, "meeting", None, text=label,
                  reservations=[t.effective.reservation for t in self.teams])


def run_worlds(scenario: Scenario, worlds: Worlds[np.ndarray]) -> Outcomes:
    """Play every world of a chunk with the Mesa engine, one :class:`NegotiationModel` each.

    A replication that raises is recorded with its error (in :attr:`Outcomes.errors`);
    the others go on.
    """
    rows: list[dict[str, Any] | None] = []
    errors: list[str | None] = []
    for world in worlds.rows():
        try:
            rows.append(NegotiationModel(scenario, world).run())
            errors.append(None)
        except Exception as exc:
            rows.append(None)
            errors.append("".join(traceback.format_exception_only(exc)).strip())
    return from_rows(rows, len(scenario.issues), len(scenario.observation_days), errors)
