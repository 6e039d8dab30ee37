"""The batch engine: a whole chunk of worlds in one compiled loop.

It plays exactly the protocol of :class:`sim.model.NegotiationModel` — the same
meetings, events, offers, acceptances, summit rule and milestones — by calling
the same compiled decision functions of :mod:`sim.negotiation`, replication by
replication, inside one numba-compiled loop. Its outcomes equal the Mesa
engine's replication by replication (tested); it is only much faster, because
no Python runs per meeting.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba.core import cgutils, types
from numba.extending import intrinsic
from numba.np.arrayobj import make_array

from sim.negotiation import kernel
from sim.negotiation.acceptance import evaluate_offer, walks_away
from sim.negotiation.calendar import (
    NOT_REACHED,
    apply_events,
    milestones,
    summit_accepts,
    summit_candidate,
    update_active,
)
from sim.negotiation.offers import concession_plan, make_offer, offer_region
from sim.negotiation.solutions import agreement_quality
from sim.negotiation.tactics import ZEUTHEN, zeuthen_risks
from sim.negotiation.utility import acceptance_floor
from sim.scenario import Scenario
from sim.world import SUMMIT, Worlds

SUMMIT_CLOSE = 2  # closed_by code for the leaders' summit (0 and 1 are the sides)


# Each side's parameters are packed into dense arrays with a side axis, so the compiled
# loop indexes numbers instead of unpacking per-side records (which costs refcounting).
VECTORS = ("weights", "best", "worst", "lo", "hi", "believed_weights")
SCALARS = ("reservation", "deadline", "walk_away_gap", "tactic", "family", "beta", "kappa", "reciprocity",
           "min_step", "rule", "accept_alpha", "accept_beta", "accept_level", "knows_opponent_limits",
           "ratification_required", "win_set", "ratification_delay", "anticipates_ratification",
           "believed_opponent_reservation")
(W, BEST, WORST, LO, HI, BELIEF) = range(len(VECTORS))
(RES, DEADLINE, GAP, TACTIC, FAMILY, BETA, KAPPA, RECIP, MINSTEP, RULE, ACC_A, ACC_B, ACC_L, KNOWS,
 REQUIRED, WIN, RDELAY, ANTICIPATES, OPP_RES) = range(len(SCALARS))


class Packed(NamedTuple):
    """Both sides' parameters for a chunk, side first (k = 0, 1), then field, then replication."""

    vec: np.ndarray  # [2, len(VECTORS), R, I]
    sca: np.ndarray  # [2, len(SCALARS), R] (codes and flags as exact small floats)
    ev_res: np.ndarray  # [2, R, E]
    ev_beta: np.ndarray  # [2, R, E]
    ev_lo: np.ndarray  # [2, R, E, I]
    ev_hi: np.ndarray  # [2, R, E, I]


def pack(worlds: Worlds) -> Packed:
    """Both sides' parameters of a chunk as :class:`Packed` arrays, side-major (each value
    copied once, contiguously; every chunk gives the compiled loop the same array types)."""
    parties = worlds.parties
    reps, n_issues = parties[0].weights.shape
    n_events = parties[0].event_reservation.shape[1]
    p = Packed(np.empty((2, len(VECTORS), reps, n_issues)), np.empty((2, len(SCALARS), reps)),
               np.empty((2, reps, n_events)), np.empty((2, reps, n_events)),
               np.empty((2, reps, n_events, n_issues)), np.empty((2, reps, n_events, n_issues)))
    for k, party in enumerate(parties):
        for j, name in enumerate(VECTORS):
            p.vec[k, j] = getattr(party, name)
        for j, name in enumerate(SCALARS):
            p.sca[k, j] = getattr(party, name)
        p.ev_res[k], p.ev_beta[k] = party.event_reservation, party.event_beta_factor
        p.ev_lo[k], p.ev_hi[k] = party.event_lo_shift, party.event_hi_shift
    return p


class Outcomes(NamedTuple):
    """Outcomes of a chunk, one entry per replication (both engines produce these)."""

    agreement_day: np.ndarray
    signed_day: np.ndarray
    ratified_day: np.ndarray
    ratification_failed: np.ndarray
    closed_by: np.ndarray  # -1 none, 0/1 the side that accepted, 2 the summit
    walked_away: np.ndarray  # -1 none, 0/1 the side that left
    terms: np.ndarray  # [R, I], NaN without agreement
    utilities: np.ndarray  # [R, 2]
    pareto_distance: np.ndarray
    nash_distance: np.ndarray
    rounds: np.ndarray
    end_day: np.ndarray  # last day of the talks (events up to it count as fired)


class _Scratch(NamedTuple):
    """Working state of one replication, allocated once per chunk (reset per replication)."""

    side: np.ndarray  # [2, 11]: eff_r, eff_beta, floor, u_max, t, aspiration, u_offer, last, prev, risks
    n_recv: np.ndarray  # [2]
    eff_lo: np.ndarray  # [2, I]
    eff_hi: np.ndarray
    plan: np.ndarray  # [2, 5, I]: start, end, loss, gain, before
    offer: np.ndarray  # [2, I]
    deal: np.ndarray  # [I]
    active: np.ndarray  # [E]
    fire: np.ndarray  # [E]
    region: np.ndarray  # [2, I]: the box a side offers in
    planned: np.ndarray  # [2, 2, I]: each side's limits when the plans were last made
    work: np.ndarray  # [7, I] and [I + 1, 2]: for agreement_quality
    frontier: np.ndarray


EFF_R, EFF_BETA, FLOOR, UMAX, T, ASP, UOFFER, LAST, PREV, RISK, RISK_OTHER = range(11)


@kernel
def _play(r, vec, sca, ev_res, ev_beta, ev_lo, ev_hi, meetings, event_day, event_duration, summit_max_gap,
          signing_delay, bound_lo, bound_hi, integer, first_mover, horizon_day, out_terms, out_utils, s):
    """Replication ``r``: the Mesa model's step loop, compiled. Writes terms and utilities
    into row ``r`` of the output arrays and returns the scalar outcomes."""
    x, n_recv, eff_lo, eff_hi, plan, offer, deal, active = s.side, s.n_recv, s.eff_lo, s.eff_hi, s.plan, s.offer, s.deal, s.active
    region, planned = s.region, s.planned
    x[:] = 0.0
    x[:, ASP] = np.nan
    n_recv[:] = 0
    active[:] = False
    fire = s.fire
    fire[:] = event_day[r]
    rounds, agreed_day, closed_by, walked, end_day = 0, NOT_REACHED, -1, -1, horizon_day
    for day in range(meetings.shape[1]):
        kind = meetings[r, day]
        if kind == 0:
            continue
        rounds += 1
        if update_active(float(day), fire, event_duration[r], active) or rounds == 1:
            for k in range(2):
                x[k, EFF_R], x[k, EFF_BETA] = apply_events(
                    active, sca[k, RES, r], sca[k, BETA, r], vec[k, LO, r], vec[k, HI, r], ev_res[k, r], ev_beta[k, r],
                    ev_lo[k, r], ev_hi[k, r], bound_lo, bound_hi, eff_lo[k], eff_hi[k])
                x[k, FLOOR] = acceptance_floor(x[k, EFF_R], sca[k, WIN, r], sca[k, ANTICIPATES, r] != 0.0)
            limits_changed = rounds == 1
            for k in range(2):
                for i in range(eff_lo.shape[1]):
                    if eff_lo[k, i] != planned[k, 0, i] or eff_hi[k, i] != planned[k, 1, i]:
                        limits_changed = True
                planned[k, 0], planned[k, 1] = eff_lo[k], eff_hi[k]
            for k in range(2 if limits_changed else 0):  # a plan depends only on both sides' limits
                offer_region(eff_lo[k], eff_hi[k], eff_lo[1 - k], eff_hi[1 - k], sca[k, KNOWS, r] != 0.0,
                             region[0], region[1])
                x[k, UMAX] = concession_plan(
                    vec[k, W, r], vec[k, BEST, r], vec[k, WORST, r], vec[k, BELIEF, r], vec[1 - k, BEST, r], vec[1 - k, WORST, r],
                    region[0], region[1], plan[k, 0], plan[k, 1], plan[k, 2], plan[k, 3], plan[k, 4])
        for k in range(2):  # Zeuthen's risk limits at the last offers, before anyone moves
            x[k, RISK], x[k, RISK_OTHER] = np.nan, np.nan
            if sca[k, TACTIC, r] == ZEUTHEN and rounds > 1:
                x[k, RISK], x[k, RISK_OTHER] = zeuthen_risks(
                    offer[k], offer[1 - k], vec[k, W, r], vec[k, BEST, r], vec[k, WORST, r], vec[k, BELIEF, r],
                    vec[1 - k, BEST, r], vec[1 - k, WORST, r], x[k, EFF_R], sca[k, OPP_RES, r])
        for k in range(2):
            move = x[k, LAST] - x[k, PREV] if n_recv[k] >= 2 else np.nan
            x[k, T], x[k, ASP], x[k, UOFFER] = make_offer(
                float(day), sca[k, DEADLINE, r], int(sca[k, TACTIC, r]), sca[k, KAPPA, r], x[k, EFF_BETA], int(sca[k, FAMILY, r]),
                sca[k, RECIP, r], sca[k, MINSTEP, r], x[k, FLOOR], x[k, ASP], move, plan[k, 0], plan[k, 1], plan[k, 2],
                plan[k, 3], plan[k, 4], x[k, UMAX], integer, vec[k, W, r], vec[k, BEST, r], vec[k, WORST, r], offer[k],
                x[k, RISK], x[k, RISK_OTHER])
        for k in range(2):
            if n_recv[k] > 0 and walks_away(x[k, T], x[k, LAST], x[k, EFF_R], sca[k, GAP, r]):
                walked = k
                break
        if walked >= 0:
            end_day = day
            break
        o = first_mover if first_mover >= 0 else (rounds - 1) % 2
        for proposer, responder in ((o, 1 - o), (1 - o, o)):
            q = responder
            u, accept = evaluate_offer(offer[proposer], vec[q, W, r], vec[q, BEST, r], vec[q, WORST, r], eff_lo[q],
                                       eff_hi[q], int(sca[q, RULE, r]), x[q, UOFFER], x[q, FLOOR], sca[q, ACC_A, r],
                                       sca[q, ACC_B, r], sca[q, ACC_L, r])
            x[q, PREV], x[q, LAST] = x[q, LAST], u
            n_recv[q] += 1
            if accept:
                deal[:] = offer[proposer]
                agreed_day, closed_by = day, q
                break
        if agreed_day == NOT_REACHED and kind == SUMMIT:
            cand = summit_candidate(offer[0], offer[1], integer)
            yes = True
            for k in range(2):
                if yes:
                    yes = summit_accepts(cand, vec[k, W, r], vec[k, BEST, r], vec[k, WORST, r], eff_lo[k], eff_hi[k],
                                         x[k, ASP], x[k, FLOOR], summit_max_gap[r])
            if yes:
                deal[:] = cand
                agreed_day, closed_by = day, SUMMIT_CLOSE
        if agreed_day != NOT_REACHED:
            end_day = day
            break

    if agreed_day == NOT_REACHED:
        return agreed_day, NOT_REACHED, NOT_REACHED, False, closed_by, walked, np.nan, np.nan, rounds, end_day
    u_a, u_b, pareto, nash = agreement_quality(
        deal, vec[0, W, r], vec[0, BEST, r], vec[0, WORST, r], vec[1, W, r], vec[1, BEST, r], vec[1, WORST, r],
        eff_lo[0], eff_hi[0], eff_lo[1], eff_hi[1], x[0, EFF_R], x[1, EFF_R], s.work, s.frontier)
    out_terms[r] = deal
    out_utils[r, 0], out_utils[r, 1] = u_a, u_b
    signed, ratified, failed = milestones(
        agreed_day, signing_delay[r], out_utils[r], sca[:, WIN, r], sca[:, REQUIRED, r], sca[:, RDELAY, r], horizon_day)
    return agreed_day, signed, ratified, failed, closed_by, walked, pareto, nash, rounds, end_day


@intrinsic
def _borrow(typingctx, arr):
    """A view of ``arr`` that holds no reference to its memory (its views hold none either).

    Every array view numba creates (``plan[k, 0]``, ...) takes and drops a reference with
    an atomic instruction; in the meeting loop those atomics were a third of the engine's
    time. Borrowed views skip them. Only for arrays that outlive every use of the view:
    here, the arguments of :func:`_play_all`, which its Python caller holds.
    """
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, sig, args):
        src = make_array(arr)(context, builder, value=args[0])
        out = make_array(arr)(context, builder)
        for field in ("nitems", "itemsize", "data", "shape", "strides"):
            setattr(out, field, getattr(src, field))
        out.meminfo = cgutils.get_null_value(out.meminfo.type)
        out.parent = cgutils.get_null_value(out.parent.type)
        return out._getvalue()

    return arr(arr), codegen


@kernel
def _play_all(vec, sca, ev_res, ev_beta, ev_lo, ev_hi, meetings, event_day, event_duration, summit_max_gap,
              signing_delay, bound_lo, bound_hi, integer, first_mover, horizon_day, scratch, out):
    ints, failed, floats, terms, utils, end_day = out
    b = _borrow
    s = _Scratch(b(scratch.side), b(scratch.n_recv), b(scratch.eff_lo), b(scratch.eff_hi), b(scratch.plan),
                 b(scratch.offer), b(scratch.deal), b(scratch.active), b(scratch.fire), b(scratch.region),
                 b(scratch.planned), b(scratch.work), b(scratch.frontier))
    vec, sca, ev_res, ev_beta, ev_lo, ev_hi = b(vec), b(sca), b(ev_res), b(ev_beta), b(ev_lo), b(ev_hi)
    meetings, event_day, event_duration = b(meetings), b(event_day), b(event_duration)
    summit_max_gap, signing_delay, integer, terms, utils = b(summit_max_gap), b(signing_delay), b(integer), b(terms), b(utils)
    for r in range(meetings.shape[0]):
        ag, sg, rt, fl, cb, wk, pd, nd, rounds, ed = _play(
            r, vec, sca, ev_res, ev_beta, ev_lo, ev_hi, meetings, event_day, event_duration, summit_max_gap,
            signing_delay, bound_lo, bound_hi, integer, first_mover, horizon_day, terms, utils, s)
        ints[r, 0], ints[r, 1], ints[r, 2], ints[r, 3], ints[r, 4], ints[r, 5] = ag, sg, rt, cb, wk, rounds
        failed[r], floats[r, 0], floats[r, 1], end_day[r] = fl, pd, nd, ed


def _scratch(n: int, e: int) -> _Scratch:
    return _Scratch(
        side=np.zeros((2, 11)), n_recv=np.zeros(2, np.int64), eff_lo=np.zeros((2, n)), eff_hi=np.zeros((2, n)),
        plan=np.zeros((2, 5, n)), offer=np.zeros((2, n)), deal=np.zeros(n), active=np.zeros(e, np.bool_),
        fire=np.zeros(e), region=np.zeros((2, n)), planned=np.zeros((2, 2, n)), work=np.zeros((7, n)),
        frontier=np.zeros((n + 1, 2)))


def run_worlds(scenario: Scenario, worlds: Worlds) -> Outcomes:
    """Play every world of a chunk with the batch engine."""
    reps, n = len(worlds), len(scenario.issues)
    out = (np.full((reps, 6), -1, np.int64),  # agreement, signed, ratified, closed_by, walked, rounds
           np.zeros(reps, np.bool_), np.full((reps, 2), np.nan),  # ratification failed; pareto, nash
           np.full((reps, n), np.nan), np.full((reps, 2), np.nan), np.zeros(reps, np.int64))  # terms, utilities, end
    ints, failed, floats, terms, utils, end_day = out
    _play_all(
        *pack(worlds), np.ascontiguousarray(worlds.meetings), np.ascontiguousarray(worlds.event_day),
        np.ascontiguousarray(worlds.event_duration, dtype=np.float64),
        np.ascontiguousarray(worlds.summit_max_gap, dtype=np.float64),
        np.ascontiguousarray(worlds.signing_delay, dtype=np.float64),
        np.array([i.low for i in scenario.issues]), np.array([i.high for i in scenario.issues]),
        np.array([i.integer for i in scenario.issues]), scenario.first_mover, scenario.horizon_day,
        _scratch(n, worlds.event_day.shape[1]), out)
    return Outcomes(ints[:, 0], ints[:, 1], ints[:, 2], failed, ints[:, 3], ints[:, 4], terms, utils,
                    floats[:, 0], floats[:, 1], ints[:, 5], end_day)


def stack(outcomes: list[dict], n_issues: int) -> Outcomes:
    """Mesa outcomes (dicts from :meth:`NegotiationModel.outcome`) as :class:`Outcomes`.

    ``None`` entries (replications that raised) get the no-agreement defaults.
    """
    def col(key, default, dtype):
        return np.array([default if o is None else o[key] for o in outcomes], dtype=dtype)

    empty_terms, empty_u = np.full(n_issues, np.nan), np.full(2, np.nan)
    return Outcomes(
        col("agreement_day", NOT_REACHED, np.int64), col("signed_day", NOT_REACHED, np.int64),
        col("ratified_day", NOT_REACHED, np.int64), col("ratification_failed", False, np.bool_),
        col("closed_by_code", -1, np.int64), col("walked_away_code", -1, np.int64),
        np.array([empty_terms if o is None else o["terms"] for o in outcomes]).reshape(len(outcomes), n_issues),
        np.array([empty_u if o is None else o["utilities"] for o in outcomes]).reshape(len(outcomes), 2),
        col("pareto_distance", np.nan, np.float64), col("nash_distance", np.nan, np.float64),
        col("rounds", 0, np.int64), col("end_day", -1, np.int64),
    )
