"""One replication told as a story: the day-by-day narrative printed by ``sim trace``."""

from __future__ import annotations

from sim.model import NegotiationModel
from sim.scenario import MILESTONES


def _terms(model: NegotiationModel, x) -> str:
    return ", ".join(f"{i.key} {i.describe(v)}" for i, v in zip(model.spec.issues, x, strict=False))


def narrative(model: NegotiationModel) -> list[str]:
    """The history of a traced model (``trace=True``) as lines of text."""
    sc, a, b = model.spec, *model.teams
    short = (a.key.upper(), b.key.upper())
    lines = [f"{sc.title} — replication {int(model.world.index)} (seed {model.world.seed})"]
    for p, team in zip(sc.parties, model.teams, strict=False):
        pr = team.params
        lines.append(f"  {p.label}: reservation {pr.reservation:.2f}, tactic {p.tactic.kind} "
                     f"(beta {pr.beta:.2f}), own deadline {sc.date_of(round(pr.deadline))}")
    for e in model.history:
        date = sc.date_of(e.day)
        if e.kind == "meeting":
            lines.append(f"{date:%a %Y-%m-%d}  {e.text}")
        elif e.kind == "event" and e.party is not None:
            lines.append(f"{date:%a %Y-%m-%d}  EVENT ({sc.parties[e.party].label}): {e.text}")
        elif e.kind == "offer" and e.party is not None and e.utilities is not None:
            u = e.utilities
            lines.append(f"    {sc.parties[e.party].label} offers {_terms(model, e.offer)}  "
                         f"[U_{short[0]} {u[0]:.2f}, U_{short[1]} {u[1]:.2f}; aspiration {e.extra['aspiration']:.2f}]")
        elif e.kind == "accept":
            lines.append(f"    ==> {e.text}: {_terms(model, e.offer)}")
        else:
            lines.append(f"    {e.text}")
    out = model.outcome()
    if model.agreement is None:
        why = f"{model.walked_away} walked away" if model.walked_away else f"no agreement by {sc.horizon}"
        lines.append(f"Outcome: {why} after {out['rounds']} meetings.")
        return lines
    lines.append(f"Outcome after {out['rounds']} meetings: U_{short[0]} {out['utilities'][0]:.3f}, "
                 f"U_{short[1]} {out['utilities'][1]:.3f}, distance to Pareto frontier {out['pareto_distance']:.4f}")
    for m, label in MILESTONES.items():
        day = out[f"{m}_day" if m != "agreement" else "agreement_day"]
        when = sc.date_of(day).isoformat() if day >= 0 else (
            "failed (outside a domestic win-set)" if m == "ratified" and out["ratification_failed"]
            else f"not by {sc.horizon}")
        before = " (before the summit)" if sc.by_summit(day) else ""
        lines.append(f"  {label:<24} {when}{before}")
    return lines
