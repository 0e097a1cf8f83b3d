"""Road network and travel times: a drivable directed graph, village access, many-to-many matrices, routes.

See docs/ARCHITECTURE.md for the contracts. :class:`planner.model.TravelTimes` is shared by every later stage.
The network never touches disk: a travel-time cache (:class:`planner.io.cache.TravelTimeCache`) is handed in.

- :mod:`planner.network.graph`: :class:`RoadNetwork`, the speed model, :func:`build_network`;
- :mod:`planner.network.access`: :func:`access_points`, :func:`locate_villages`;
- :mod:`planner.network.matrix`: :func:`travel_times` and the core-graph contraction it runs on;
- :mod:`planner.network.routes`: :func:`route`, :func:`routes`, :func:`leg_lines`.
"""

from planner.network.access import access_points, locate_villages
from planner.network.graph import RoadNetwork, build_network, edge_speeds_kmh, road_sinuosity
from planner.network.matrix import travel_times, travel_times_key
from planner.network.routes import Route, leg_lines, route, routes

__all__ = [
    "RoadNetwork",
    "Route",
    "access_points",
    "build_network",
    "edge_speeds_kmh",
    "leg_lines",
    "locate_villages",
    "road_sinuosity",
    "route",
    "routes",
    "travel_times",
    "travel_times_key",
]
