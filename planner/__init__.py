"""planner: police districts, offices and monthly patrol plans for rural counties (一村一警)."""

from planner.errors import InfeasibleError, PlannerError, SolverError, ValidationError

__version__ = "0.1.0"

__all__ = ["InfeasibleError", "PlannerError", "SolverError", "ValidationError", "__version__"]
