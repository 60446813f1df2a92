#!/usr/bin/env python3
"""Build ``provinces.geojson``, the province outlines drawn under the city map.

Source: Natural Earth 1:50m Cultural Vectors, "Admin 1 - States, Provinces"
(``ne_50m_admin_1_states_provinces``), public domain; see README.md beside this file
for where to get it. The source is not kept in the repository: download it, then

    python models/jjj-2plus26/map/build_map.py ne_50m_admin_1_states_provinces.geojson

writes ``provinces.geojson`` next to this script (``--out FILE`` elsewhere). The
source may be gzip-compressed (``.geojson.gz``). Only the standard library is used.

What the script does, in order:

1. Picks the region's six provinces (``REGION``, by ISO 3166-2 code) and their
   neighbours (``CONTEXT``).
2. Simplifies every boundary with Douglas-Peucker at ``TOLERANCE_DEG`` degrees
   (about 1 km), topology-preserving: rings are cut into arcs at the vertices where
   the set of provinces sharing the boundary changes, and each arc is simplified once,
   so that two provinces keep exactly the same border (no slivers, no gaps).
   Islands smaller than ``MIN_ISLAND_DEG2`` square degrees are dropped.
3. Writes the six provinces as MultiPolygons with ``role: region``, and the neighbours
   as MultiPolygons with ``role: context`` clipped (Sutherland-Hodgman) to the region's
   bounding box widened by ``CONTEXT_MARGIN_DEG`` degrees, so that the land around the
   region and the coast of the Bohai Sea show without whole provinces in the file (the
   cut edges lie along that box, outside any view of the region).
4. Rounds coordinates to ``DECIMALS`` decimals (about 100 m) and writes compact JSON,
   keys sorted: the same source gives the same bytes.

Properties of each feature: ``name`` (English), ``name_zh`` (Chinese, without the
suffix 省, 市 or 自治区), ``iso_3166_2``, ``type`` (Province, Municipality, ...), ``role``
(``region`` or ``context``) and, for the region, ``label`` ([lon, lat], Natural
Earth's label point).
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: The 2+26 channel's provinces and municipalities.
REGION = ["CN-BJ", "CN-TJ", "CN-HE", "CN-SX", "CN-SD", "CN-HA"]
#: Their neighbours, drawn around them for context (land, coast and borders).
CONTEXT = ["CN-NM", "CN-LN", "CN-SN", "CN-AH", "CN-JS", "CN-HB"]
TOLERANCE_DEG = 0.01
MIN_ISLAND_DEG2 = 0.003
CONTEXT_MARGIN_DEG = 2.5
DECIMALS = 3

SOURCE_NAME = "ne_50m_admin_1_states_provinces"
SOURCE = ("Natural Earth 1:50m Cultural Vectors, Admin 1 - States, Provinces "
          "(ne_50m_admin_1_states_provinces), public domain, naturalearthdata.com")

ATTRIBUTION = "Province outlines: Natural Earth (public domain)"

Point = tuple[float, float]


# --- reading --------------------------------------------------------------------------------

def read_source(path: Path) -> dict:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    data = json.loads(raw.decode("utf-8"))
    if data.get("type") != "FeatureCollection":
        sys.exit(f"{path}: not a GeoJSON FeatureCollection")
    return data


def polygons(geometry: dict) -> list[list[list[Point]]]:
    """[polygon][ring][vertex] of a Polygon or MultiPolygon, rings open (last != first)."""
    kind, coords = geometry["type"], geometry["coordinates"]
    polys = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    out = []
    for poly in polys:
        rings = []
        for ring in poly:
            pts = [(float(x), float(y)) for x, y, *_ in ring]
            if len(pts) > 1 and pts[0] == pts[-1]:
                pts.pop()
            rings.append(pts)
        out.append(rings)
    return out


def ring_area(ring: list[Point]) -> float:
    """Signed area (shoelace), square degrees: > 0 counter-clockwise."""
    n = len(ring)
    return 0.5 * sum(ring[i][0] * ring[(i + 1) % n][1] - ring[(i + 1) % n][0] * ring[i][1]
                     for i in range(n))


# --- topology-preserving simplification ---------------------------------------------------------

def douglas_peucker(points: list[Point], tol: float) -> list[Point]:
    """Douglas-Peucker on an open polyline; both ends are kept."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        i, j = stack.pop()
        (x1, y1), (x2, y2) = points[i], points[j]
        dx, dy = x2 - x1, y2 - y1
        norm = math.hypot(dx, dy)
        best, at = -1.0, -1
        for k in range(i + 1, j):
            px, py = points[k]
            d = (abs(dy * (px - x1) - dx * (py - y1)) / norm if norm > 0
                 else math.hypot(px - x1, py - y1))
            if d > best:
                best, at = d, k
        if best > tol:
            keep[at] = True
            stack += [(i, at), (at, j)]
    return [p for p, k in zip(points, keep) if k]


def simplify_rings(rings: dict[tuple, list[Point]], tol: float) -> dict[tuple, list[Point]]:
    """Simplify every ring (key -> open ring) so that boundaries shared by rings stay shared.

    A vertex is a junction when the set of rings holding it differs from that of the
    previous or next vertex; the arcs between junctions are simplified once each, in a
    canonical direction, so that both sides of a border get the same vertices.
    """
    owners: dict[Point, set] = {}
    for key, ring in rings.items():
        for p in ring:
            owners.setdefault(p, set()).add(key[0])  # key[0]: the feature
    done: dict[tuple, list[Point]] = {}
    out = {}
    for key, ring in rings.items():
        n = len(ring)
        sets = [frozenset(owners[p]) for p in ring]
        cuts = [i for i in range(n) if sets[i] != sets[i - 1] or sets[i] != sets[(i + 1) % n]]
        if not cuts:  # a ring nobody shares: cut at its first vertex and the farthest one
            far = max(range(n), key=lambda i: math.dist(ring[0], ring[i]))
            cuts = [0, far] if far else [0]
        simplified: list[Point] = []
        for a, b in zip(cuts, cuts[1:] + [cuts[0] + n]):
            arc = [ring[i % n] for i in range(a, b + 1)]
            forward = arc[0] < arc[-1] or (arc[0] == arc[-1] and arc[1:2] <= arc[-2:-1])
            canon = tuple(arc if forward else arc[::-1])
            if canon not in done:
                done[canon] = douglas_peucker(list(canon), tol)
            piece = done[canon] if forward else done[canon][::-1]
            simplified += piece[:-1]
        out[key] = simplified
    return out


# --- the neighbours, clipped ----------------------------------------------------------------------------

def clip_ring(ring: list[Point], box: tuple[float, float, float, float]) -> list[Point]:
    """The part of a ring inside ``box`` (x0, y0, x1, y1), Sutherland-Hodgman: a ring again,
    whose cut edges run along the box (which is wider than any view of the map)."""
    x0, y0, x1, y1 = box
    edges = [(lambda p: p[0] >= x0, lambda a, b: _at_x(a, b, x0)),
             (lambda p: p[0] <= x1, lambda a, b: _at_x(a, b, x1)),
             (lambda p: p[1] >= y0, lambda a, b: _at_y(a, b, y0)),
             (lambda p: p[1] <= y1, lambda a, b: _at_y(a, b, y1))]
    out = list(ring)
    for inside, cross in edges:
        if not out:
            break
        pts, out = out, []
        for a, b in zip(pts, pts[1:] + pts[:1]):
            if inside(b):
                if not inside(a):
                    out.append(cross(a, b))
                out.append(b)
            elif inside(a):
                out.append(cross(a, b))
    return out


def _at_x(a: Point, b: Point, x: float) -> Point:
    return (x, a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0]))


def _at_y(a: Point, b: Point, y: float) -> Point:
    return (a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]), y)


# --- writing ------------------------------------------------------------------------------------

def rounded(points: list[Point]) -> list[list[float]]:
    out: list[list[float]] = []
    for x, y in points:
        p = [round(x, DECIMALS), round(y, DECIMALS)]
        if not out or out[-1] != p:
            out.append(p)
    return out


def short_zh(name: str | None) -> str | None:
    if not name:
        return None
    for suffix in ("自治区", "省", "市"):
        if name.endswith(suffix) and len(name) > 2:
            return name[: -len(suffix)]
    return name


def build(source: dict, source_sha256: str) -> dict:
    wanted = REGION + CONTEXT
    features = {f["properties"].get("iso_3166_2"): f for f in source["features"]
                if f["properties"].get("iso_3166_2") in wanted}
    missing = [code for code in wanted if code not in features]
    if missing:
        sys.exit(f"the source has no feature with iso_3166_2 {', '.join(missing)}: is it "
                 f"{SOURCE_NAME}, version 5 or later (China's provinces are in its 1:50m "
                 f"admin-1 since version 5)?")
    rings: dict[tuple, list[Point]] = {}
    holes: dict[tuple, bool] = {}
    for code in wanted:
        for p, poly in enumerate(polygons(features[code]["geometry"])):
            if abs(ring_area(poly[0])) < MIN_ISLAND_DEG2:
                continue
            for r, ring in enumerate(poly):
                rings[(code, p, r)] = ring
                holes[(code, p, r)] = r > 0
    simple = simplify_rings(rings, TOLERANCE_DEG)

    lon = [x for (code, *_), ring in simple.items() if code in REGION for x, _ in ring]
    lat = [y for (code, *_), ring in simple.items() if code in REGION for _, y in ring]
    m = CONTEXT_MARGIN_DEG
    box = (min(lon) - m, min(lat) - m, max(lon) + m, max(lat) + m)

    out = []
    for code in wanted:
        props = features[code]["properties"]
        keys = sorted(k for k in simple if k[0] == code)
        meta = {"name": props.get("name_en") or props.get("name"),
                "name_zh": short_zh(props.get("name_zh")), "iso_3166_2": code,
                "type": props.get("type_en") or props.get("type")}
        coordinates = []
        for part in sorted({k[1] for k in keys}):
            part_rings = []
            for key in sorted(k for k in keys if k[1] == part):  # the outer ring first
                ring = simple[key] if code in REGION else clip_ring(simple[key], box)
                ring = rounded(ring)
                if len(ring) > 1 and ring[0] == ring[-1]:
                    ring.pop()
                if len(ring) < 3 or abs(ring_area(ring)) < MIN_ISLAND_DEG2:
                    if not holes[key]:
                        break  # the outer ring is gone (outside the box): its holes too
                    continue
                if (ring_area(ring) > 0) == holes[key]:  # RFC 7946: outer rings counter-clockwise
                    ring = ring[::-1]
                part_rings.append(ring + ring[:1])
            if part_rings:
                coordinates.append(part_rings)
        geometry = {"type": "MultiPolygon", "coordinates": coordinates}
        if code in REGION:
            meta |= {"role": "region", "label": [props["longitude"], props["latitude"]]}
        else:
            meta |= {"role": "context"}
        out.append({"type": "Feature", "properties": meta, "geometry": geometry})
    return {
        "type": "FeatureCollection",
        "name": "jjj-2plus26 provinces",
        "attribution": ATTRIBUTION,
        "source": SOURCE,
        "source_sha256": source_sha256,
        "simplification": {"method": "Douglas-Peucker, topology-preserving",
                           "tolerance_deg": TOLERANCE_DEG, "decimals": DECIMALS,
                           "min_island_deg2": MIN_ISLAND_DEG2,
                           "context_box": [round(v, DECIMALS) for v in box]},
        "features": out,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", type=Path, help=f"{SOURCE_NAME}.geojson (or .geojson.gz)")
    ap.add_argument("--out", type=Path, default=HERE / "provinces.geojson")
    args = ap.parse_args(argv)
    raw = args.source.read_bytes()
    result = build(read_source(args.source), hashlib.sha256(raw).hexdigest())
    text = json.dumps(result, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    args.out.write_text(text + "\n", encoding="utf-8")
    n = sum(len(ring) for f in result["features"] for part in f["geometry"]["coordinates"]
            for ring in (part if f["geometry"]["type"] == "MultiPolygon" else [part]))
    print(f"wrote {args.out}: {len(result['features'])} features, {n} vertices, "
          f"{args.out.stat().st_size / 1024:.1f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
