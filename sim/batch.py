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
from numba.extending import intrinsic, overload
from numba.np.arrayobj import make_array

from sim.negotiation import kernel
from sim.negotiation.acceptance import AcceptanceParams, evaluate_offer, walks_away
from sim.negotiation.offers import ConcessionPlan, concession_plan, make_offer, offer_region
from sim.negotiation.protocol import (
    NEVER,
    NOT_REACHED,
    EventEffects,
    apply_events,
    limits_changed,
    milestones,
    opener,
    opening,
    opponent_move,
    pressure_on,
    record_standing,
    summit_accepts,
    summit_candidate,
    update_active,
    zeuthen_applies,
)
from sim.negotiation.solutions import agreement_quality
from sim.negotiation.tactics import TacticParams, zeuthen_risks
from sim.negotiation.utility import Preferences, acceptance_floor
from sim.outcomes import SUMMIT_CLOSE, Outcomes
from sim.scenario import Scenario
from sim.world import SUMMIT, Worlds

# Each side's parameters are packed into dense arrays with a side axis, so the compiled
# loop indexes numbers instead of unpacking per-side records (which costs refcounting).
VECTORS = ("weights", "best", "worst", "lo", "hi", "believed_weights")
SCALARS = ("reservation", "deadline", "walk_away_gap", "deadline_cost", "deadline_window", "tactic", "family",
           "beta", "kappa", "reciprocity", "min_step", "spread", "rule", "accept_alpha", "accept_beta", "accept_level",
           "knows_opponent_limits", "ratification_required", "win_set", "ratification_delay",
           "anticipates_ratification", "believed_opponent_reservation")
_V = {name: k for k, name in enumerate(VECTORS)}
_S = {name: k for k, name in enumerate(SCALARS)}
# positions looked up by name: reordering the tuples above cannot mislabel a field
W, BEST, WORST, LO, HI, BELIEF = (_V[n] for n in ("weights", "best", "worst", "lo", "hi", "believed_weights"))
(RES, DEADLINE, GAP, DCOST, DWINDOW, TACTIC, FAMILY, BETA, KAPPA, RECIP, MINSTEP, SPREAD, RULE, ACC_A, ACC_B, ACC_L,
 KNOWS, REQUIRED, WIN, RDELAY, ANTICIPATES, OPP_RES) = (_S[n] for n in SCALARS)


class Packed(NamedTuple):
    """Both sides' parameters for a chunk, side first (k = 0, 1), then field, then replication."""

    vec: np.ndarray  # [2, len(VECTORS), R, I]
    sca: np.ndarray  # [2, len(SCALARS), R] (codes and flags as exact small floats)
    ev_res: np.ndarray  # [2, R, E]
    ev_beta: np.ndarray  # [2, R, E]
    ev_lo: np.ndarray  # [2, R, E, I]
    ev_hi: np.ndarray  # [2, R, E, I]


class Calendar(NamedTuple):
    """A chunk's calendar: meeting kinds per day, event fire days and durations, the summit's
    bridge and the signing delay per replication, the observation days (one for all), and how
    far each event moves the public deadline."""

    meetings: np.ndarray  # [R, days] int8
    event_day: np.ndarray  # [R, E] int64
    event_duration: np.ndarray  # [R, E]
    summit_max_gap: np.ndarray  # [R]
    signing_delay: np.ndarray  # [R]
    observe: np.ndarray  # [J] int64
    deadline_shift: np.ndarray  # [R, E]


class Agenda(NamedTuple):
    """The issues' bounds and which are integer."""

    bound_lo: np.ndarray
    bound_hi: np.ndarray
    integer: np.ndarray


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


class _Scratch(NamedTuple):
    """Working state of one replication, allocated once per chunk (reset per replication)."""

    side: np.ndarray  # [2, 12]: eff_r, eff_beta, floor, u_max, t, aspiration, u_offer, last, prev, risks, pressure
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


EFF_R, EFF_BETA, FLOOR, UMAX, T, ASP, UOFFER, LAST, PREV, RISK, RISK_OTHER, PRESSURE = range(12)


@kernel
def _prefs(vec, k, r):
    return Preferences(vec[k, W, r], vec[k, BEST, r], vec[k, WORST, r])


@kernel
def _play(r, p, cal, agenda, first_mover, deadline_day, horizon_day, out_terms, out_utils, out_standing, s):
    """Replication ``r``: the Mesa model's step loop, compiled. Writes terms, utilities and
    standing offers into row ``r`` of the output arrays and returns the scalar outcomes."""
    vec, sca = p.vec, p.sca
    x, n_recv, eff_lo, eff_hi, plan, offer, deal = s.side, s.n_recv, s.eff_lo, s.eff_hi, s.plan, s.offer, s.deal
    active, region, planned, integer = s.active, s.region, s.planned, agenda.integer
    x[:] = 0.0
    x[:, ASP] = np.nan
    n_recv[:] = 0
    active[:] = False
    fire = s.fire
    fire[:] = cal.event_day[r]
    for k in range(2):
        opening(vec[k, BEST, r], vec[k, LO, r], vec[k, HI, r], offer[k])
    standing, observe, observed = out_standing[r], cal.observe, 0
    rounds, agreed_day, closed_by, walked, end_day = 0, NOT_REACHED, -1, -1, horizon_day
    meetings = cal.meetings
    for day in range(meetings.shape[1]):
        kind = meetings[r, day]
        if kind == 0:
            continue
        observed = record_standing(day, observe, observed, offer, standing)
        rounds += 1
        if update_active(float(day), fire, cal.event_duration[r], active) or rounds == 1:
            for k in range(2):
                x[k, EFF_R], x[k, EFF_BETA] = apply_events(
                    active, sca[k, RES, r], sca[k, BETA, r], vec[k, LO, r], vec[k, HI, r],
                    EventEffects(p.ev_res[k, r], p.ev_beta[k, r], p.ev_lo[k, r], p.ev_hi[k, r]),
                    agenda.bound_lo, agenda.bound_hi, eff_lo[k], eff_hi[k])
                x[k, FLOOR] = acceptance_floor(x[k, EFF_R], sca[k, WIN, r], sca[k, ANTICIPATES, r] != 0.0)
            moved_a = limits_changed(eff_lo[0], eff_hi[0], planned[0])
            moved_b = limits_changed(eff_lo[1], eff_hi[1], planned[1])
            for k in range(2 if rounds == 1 or moved_a or moved_b else 0):
                offer_region(eff_lo[k], eff_hi[k], eff_lo[1 - k], eff_hi[1 - k], sca[k, KNOWS, r] != 0.0,
                             region[0], region[1])
                x[k, UMAX] = concession_plan(
                    _prefs(vec, k, r), Preferences(vec[k, BELIEF, r], vec[1 - k, BEST, r], vec[1 - k, WORST, r]),
                    region[0], region[1], plan[k, 0], plan[k, 1], plan[k, 2], plan[k, 3], plan[k, 4])
        for k in range(2):  # Zeuthen's risk limits at the last offers, before anyone moves
            x[k, RISK], x[k, RISK_OTHER] = np.nan, np.nan
            if zeuthen_applies(int(sca[k, TACTIC, r]), rounds):
                x[k, RISK], x[k, RISK_OTHER] = zeuthen_risks(
                    offer[k], offer[1 - k], _prefs(vec, k, r),
                    Preferences(vec[k, BELIEF, r], vec[1 - k, BEST, r], vec[1 - k, WORST, r]),
                    x[k, EFF_R], sca[k, OPP_RES, r])
        for k in range(2):
            x[k, PRESSURE] = pressure_on(float(day), deadline_day, fire, cal.deadline_shift[r], sca[k, DCOST, r],
                                         sca[k, DWINDOW, r])
            tactic = TacticParams(int(sca[k, TACTIC, r]), int(sca[k, FAMILY, r]), sca[k, KAPPA, r], x[k, EFF_BETA],
                                  sca[k, RECIP, r], sca[k, MINSTEP, r], sca[k, SPREAD, r])
            x[k, T], x[k, ASP], x[k, UOFFER] = make_offer(
                float(day), sca[k, DEADLINE, r], tactic, x[k, FLOOR], x[k, ASP],
                opponent_move(x[k, LAST], x[k, PREV], n_recv[k]),
                ConcessionPlan(plan[k, 0], plan[k, 1], plan[k, 2], plan[k, 3], plan[k, 4], x[k, UMAX]), integer,
                _prefs(vec, k, r), offer[k], x[k, RISK], x[k, RISK_OTHER], x[k, PRESSURE])
        for k in range(2):
            if n_recv[k] > 0 and walks_away(x[k, T], x[k, LAST], x[k, EFF_R], sca[k, GAP, r]):
                walked = k
                break
        if walked >= 0:
            end_day = day
            break
        o = opener(first_mover, rounds)
        for proposer, responder in ((o, 1 - o), (1 - o, o)):
            q = responder
            u, accept = evaluate_offer(
                offer[proposer], _prefs(vec, q, r), eff_lo[q], eff_hi[q],
                AcceptanceParams(int(sca[q, RULE, r]), sca[q, ACC_A, r], sca[q, ACC_B, r], sca[q, ACC_L, r]),
                x[q, UOFFER], x[q, FLOOR])
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
                    yes = summit_accepts(cand, _prefs(vec, k, r), eff_lo[k], eff_hi[k], x[k, ASP], x[k, FLOOR],
                                         cal.summit_max_gap[r], x[k, PRESSURE])
            if yes:
                deal[:] = cand
                agreed_day, closed_by = day, SUMMIT_CLOSE
        if agreed_day != NOT_REACHED:
            end_day = day
            break

    record_standing(NEVER, observe, observed, offer, standing)
    if agreed_day == NOT_REACHED:
        return agreed_day, NOT_REACHED, NOT_REACHED, False, closed_by, walked, np.nan, np.nan, rounds, end_day
    u_a, u_b, pareto, nash = agreement_quality(
        deal, _prefs(vec, 0, r), _prefs(vec, 1, r), eff_lo[0], eff_hi[0], eff_lo[1], eff_hi[1], x[0, EFF_R],
        x[1, EFF_R], s.work, s.frontier)
    out_terms[r] = deal
    out_utils[r, 0], out_utils[r, 1] = u_a, u_b
    signed, ratified, failed = milestones(
        agreed_day, cal.signing_delay[r], out_utils[r], sca[:, WIN, r], sca[:, REQUIRED, r], sca[:, RDELAY, r],
        horizon_day)
    return agreed_day, signed, ratified, failed, closed_by, walked, pareto, nash, rounds, end_day


def _borrow(arr: np.ndarray) -> np.ndarray:
    """A view of ``arr`` that holds no reference to its memory (its views hold none either).

    Every array view numba creates (``plan[k, 0]``, ...) takes and drops a reference with
    an atomic instruction; in the meeting loop those atomics were a third of the engine's
    time. Borrowed views skip them. Only for arrays that outlive every use of the view:
    here, the arguments of :func:`_play_all`, which its Python caller holds.

    In Python (``NUMBA_DISABLE_JIT=1``) it is the identity; compiled code gets
    :func:`_borrowed_view` through the overload below.
    """
    return arr


@intrinsic
def _borrowed_view(typingctx, arr):
    """The compiled body of :func:`_borrow` (numba internals: tested against numba 0.68)."""
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


@overload(_borrow, inline="always")
def _borrow_overload(arr):
    if isinstance(arr, types.Array):
        return lambda arr: _borrowed_view(arr)
    return None


@kernel
def _play_all(packed, cal, agenda, first_mover, deadline_day, horizon_day, scratch, out):
    ints, failed, floats, terms, utils, end_day, standing = out
    b = _borrow
    s = _Scratch(b(scratch.side), b(scratch.n_recv), b(scratch.eff_lo), b(scratch.eff_hi), b(scratch.plan),
                 b(scratch.offer), b(scratch.deal), b(scratch.active), b(scratch.fire), b(scratch.region),
                 b(scratch.planned), b(scratch.work), b(scratch.frontier))
    p = Packed(b(packed.vec), b(packed.sca), b(packed.ev_res), b(packed.ev_beta), b(packed.ev_lo), b(packed.ev_hi))
    c = Calendar(b(cal.meetings), b(cal.event_day), b(cal.event_duration), b(cal.summit_max_gap),
                 b(cal.signing_delay), b(cal.observe), b(cal.deadline_shift))
    g = Agenda(b(agenda.bound_lo), b(agenda.bound_hi), b(agenda.integer))
    terms, utils, standing = b(terms), b(utils), b(standing)
    for r in range(c.meetings.shape[0]):
        ag, sg, rt, fl, cb, wk, pd, nd, rounds, ed = _play(r, p, c, g, first_mover, deadline_day, horizon_day,
                                                           terms, utils, standing, s)
        ints[r, 0], ints[r, 1], ints[r, 2], ints[r, 3], ints[r, 4], ints[r, 5] = ag, sg, rt, cb, wk, rounds
        failed[r], floats[r, 0], floats[r, 1], end_day[r] = fl, pd, nd, ed


def _scratch(n: int, e: int) -> _Scratch:
    return _Scratch(
        side=np.zeros((2, 12)), n_recv=np.zeros(2, np.int64), eff_lo=np.zeros((2, n)), eff_hi=np.zeros((2, n)),
        plan=np.zeros((2, 5, n)), offer=np.zeros((2, n)), deal=np.zeros(n), active=np.zeros(e, np.bool_),
        fire=np.zeros(e), region=np.zeros((2, n)), planned=np.zeros((2, 2, n)), work=np.zeros((7, n)),
        frontier=np.zeros((n + 1, 2)))


def calendar(scenario: Scenario, worlds: Worlds) -> Calendar:
    """The chunk's :class:`Calendar`, as the compiled loop takes it (C-contiguous, fixed dtypes)."""
    return Calendar(np.ascontiguousarray(worlds.meetings, dtype=np.int8),
                    np.ascontiguousarray(worlds.event_day, dtype=np.int64),
                    np.ascontiguousarray(worlds.event_duration, dtype=np.float64),
                    np.ascontiguousarray(worlds.summit_max_gap, dtype=np.float64),
                    np.ascontiguousarray(worlds.signing_delay, dtype=np.float64),
                    scenario.observation_days_array,
                    np.ascontiguousarray(worlds.deadline_shift, dtype=np.float64))


def run_worlds(scenario: Scenario, worlds: Worlds) -> Outcomes:
    """Play every world of a chunk with the batch engine (it raises, for the whole chunk, if
    anything fails; the runner then replays the chunk on the Mesa engine)."""
    reps, n = len(worlds), len(scenario.issues)
    out = (np.full((reps, 6), -1, np.int64),  # agreement, signed, ratified, closed_by, walked, rounds
           np.zeros(reps, np.bool_), np.full((reps, 2), np.nan),  # ratification failed; pareto, nash
           np.full((reps, n), np.nan), np.full((reps, 2), np.nan), np.zeros(reps, np.int64),  # terms, utilities, end
           np.full((reps, len(scenario.observation_days), 2, n), np.nan))  # standing offers
    ints, failed, floats, terms, utils, end_day, standing = out
    agenda = Agenda(np.array([i.low for i in scenario.issues]), np.array([i.high for i in scenario.issues]),
                    np.array([i.integer for i in scenario.issues]))
    _play_all(pack(worlds), calendar(scenario, worlds), agenda, scenario.first_mover, float(scenario.summit_day),
              scenario.horizon_day,
              _scratch(n, worlds.event_day.shape[1]), out)
    return Outcomes(ints[:, 0], ints[:, 1], ints[:, 2], failed, ints[:, 3], ints[:, 4], terms, utils,
                    floats[:, 0], floats[:, 1], ints[:, 5], end_day, standing)
