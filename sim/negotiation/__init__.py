"""The negotiation's decision logic, as pure compiled functions.

Every decision of the model — utilities, tactics, offer generation, acceptance,
events, the summit rule, milestones, bargaining solutions — is a pure function
here, compiled once with numba (:func:`kernel`) and called by every engine: the
Mesa agents call them one replication at a time, and a batch engine can call the
very same compiled functions in a loop over replications. The model's behaviour
is therefore written exactly once.

Functions take scalars and 1-D issue arrays of a single replication. Nothing here
draws random numbers or imports from the rest of the package. Set
``NUMBA_DISABLE_JIT=1`` to run them as plain Python (for debugging or coverage).
"""

from numba import njit

#: Decorator for decision functions: compiled, cached on disk, no fast-math (results are exact IEEE).
kernel = njit(cache=True, nogil=True, inline="always")
