"""The forecasting wing: the odds of a deal given the dated record, and how good such odds have been.

Read top to bottom, the data flow:

- :mod:`~sim.forecast.conditioning` — a scenario and its record as of a date → evidence →
  a weighted sample of worlds (the posterior) and the milestones' probabilities;
- :mod:`~sim.forecast.inference` — the sampler (ABC by sequential Monte Carlo) it uses;
- :mod:`~sim.forecast.calibration` — simulation-based calibration of that sampler;
- :mod:`~sim.forecast.scores` — proper scoring rules (log score, Brier, PIT, reliability);
- :mod:`~sim.forecast.cases` and :mod:`~sim.forecast.library` — resolved talks to score against:
  case files, and the case library (one table of cases built from scenario templates);
- :mod:`~sim.forecast.priors` — behavioural priors learned across the library (empirical Bayes);
- :mod:`~sim.forecast.backtest` — every case forecast from its dates and scored, in sample or
  cross-validated;
- :mod:`~sim.forecast.report` and :mod:`~sim.forecast.backtest_report` — figures and Markdown.
"""

from sim.forecast.conditioning import Evidence, Forecast, ForecastError, RecordNotMatched, evidence, forecast

__all__ = ["Evidence", "Forecast", "ForecastError", "RecordNotMatched", "evidence", "forecast"]
