"""fairshare: least-cost and fair sharing of regional air-pollution control.

Python API (README "Python API")::

    import fairshare as fs
    sc = fs.load_scenario("scenarios/jjj-2030-least-cost.yaml")
    model = fs.build_model(sc)          # a Pyomo ConcreteModel you may extend
    res = fs.solve(sc, model=model)     # Result with .status .total_cost .cities ...
    front = fs.pareto(sc, y="gini", points=15)   # one row per point (DataFrame)
"""

__version__ = "0.1.0"

from fairshare.errors import InputError, Problem  # noqa: E402


def _skip_pyomo_scipy_stats() -> None:
    """Pyomo imports scipy.stats (1-3 s here, most of a 28-city run) as soon as anything
    imports scipy, only so that its own code may assume it is loaded. fairshare needs
    scipy.sparse alone, and Pyomo still imports any scipy submodule on first use."""
    try:
        import pyomo.common.dependencies as deps
    except ImportError:  # pragma: no cover - pyomo is a dependency
        return
    indicator = getattr(deps, "scipy_available", None)
    if getattr(indicator, "_module", True) is None and hasattr(indicator, "_callback"):
        indicator._callback = None


_skip_pyomo_scipy_stats()

__all__ = ["InputError", "Problem", "__version__", "load_scenario", "load_region",
           "build_model", "solve", "mtfr", "pareto", "compare", "compensate", "Result",
           "Status"]


def __dir__():
    return sorted(set(globals()) | set(__all__))


def __getattr__(name):
    # Lazy imports keep `fairshare --help` fast and avoid import cycles.
    if name == "load_scenario":
        from fairshare.scenario import load_scenario
        return load_scenario
    if name == "load_region":
        from fairshare.data import load_region
        return load_region
    if name in ("build_model", "solve", "mtfr"):
        from fairshare import api
        return getattr(api, name)
    if name == "pareto":
        from fairshare.fronts import pareto
        return pareto
    if name == "compare":
        from fairshare.comparison import compare
        return compare
    if name == "compensate":
        from fairshare.compensation import compensate
        return compensate
    if name == "Result":
        from fairshare.results import Result
        return Result
    if name == "Status":
        from fairshare.solver import Status
        return Status
    raise AttributeError(f"module 'fairshare' has no attribute {name!r}")
