"""Bargaining theory the model is validated against: reference solvers on any frontier
(:mod:`~sim.theory.solutions`), Zeuthen's and the alternating-offers rules
(:mod:`~sim.theory.classic`) and Mesa models that play them (:mod:`~sim.theory.models`).
Used by :mod:`sim.validation` and the tests, never by the engines.
"""
