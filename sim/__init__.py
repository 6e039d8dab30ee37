"""An agent-based simulator of two-party negotiations against a deadline.

The flow follows the data: a scenario file is loaded and validated
(:mod:`sim.scenario`), worlds are sampled from the run's seed
(:mod:`sim.world`), an engine plays each world out (:mod:`sim.model`, built on
the pure decision functions of :mod:`sim.negotiation`), the runner streams
per-replication records to disk (:mod:`sim.runner`), and summaries and plots
are made from them (:mod:`sim.analysis`, :mod:`sim.plots`).
"""

__version__ = "0.1.0"
