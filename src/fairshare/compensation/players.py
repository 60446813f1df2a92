"""The players of the compensation game: which cities, which receptors and which targets each holds.

Players are cities (``"city"``), the region's provinces (``"province"``, the column of
``cities.csv``) or zones (``"zone"``), or any grouping given as a mapping (``{player:
[city, ...]}`` or ``{city: player}``) or a file (CSV with columns ``city`` and ``player``,
or a YAML mapping of either shape). A grouping may leave cities out: they are **outside
the game** (their measures stay at the baseline in every coalition and the targets at
their receptors are not held by anyone).

A receptor belongs to the player of a city (docs/compensation.md, "Receptors"): the city
of the same id; else the city a ``receptor_owner`` mapping names; else the city whose
baseline emissions contribute most to the receptor's baseline concentration
(``sum_{q,p} max(0, T[q,r,s,p]) E[s,p]``). A target
is held by a coalition when every receptor (concentration and exposure targets) or
every city (emission caps) it concerns belongs to a member.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fairshare.errors import InputError, Problem, did_you_mean

KINDS = ("city", "province", "zone")
MAX_PLAYERS = 62  # coalitions are bit masks of a 64-bit integer


@dataclass(frozen=True)
class Players:
    kind: str                      # "city" | "province" | "zone" | "mapping"
    names: tuple[str, ...]         # player ids, in the order of the masks' bits
    cities: tuple[str, ...]        # the region's cities
    city_player: np.ndarray        # [S] player index of each city, -1 outside the game
    receptors: tuple[str, ...]
    receptor_player: np.ndarray    # [R] player holding each receptor's targets, -1 none
    receptor_rule: tuple[str, ...]  # [R] how the receptor's player was found

    @property
    def n(self) -> int:
        return len(self.names)

    @property
    def full(self) -> int:
        return (1 << self.n) - 1

    def members(self, i: int) -> list[str]:
        return [c for c, p in zip(self.cities, self.city_player) if p == i]

    def in_mask(self, mask: int) -> np.ndarray:
        """[n] bool: the players of coalition ``mask``."""
        return ((int(mask) >> np.arange(self.n)) & 1).astype(bool)

    def label(self, mask: int) -> str:
        return " + ".join(self.names[i] for i in np.flatnonzero(self.in_mask(mask)))

    def table(self) -> list[dict]:
        return [{"player": p, "members": self.members(i)} for i, p in enumerate(self.names)]


def _problem(message: str, where: str = "players") -> InputError:
    return InputError([Problem(where, message, column="players")])


def read_players_file(path: str | Path) -> dict:
    """A grouping from a CSV file (columns ``city``, ``player``) or a YAML mapping."""
    path = Path(path)
    if not path.is_file():
        raise _problem(f"players file {path} does not exist (or is not a file)", str(path))
    if path.suffix.lower() == ".csv":
        import pandas as pd

        table = pd.read_csv(path, dtype=str)
        missing = [c for c in ("city", "player") if c not in table.columns]
        if missing:
            raise _problem(f"the players file needs columns city and player; missing "
                           f"{', '.join(missing)} (has {', '.join(table.columns)})", str(path))
        return dict(zip(table["city"].str.strip(), table["player"].str.strip()))
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, Mapping):
        raise _problem("the players file must be a mapping {player: [cities]} or {city: player}",
                       str(path))
    return dict(data)


def resolve_players(inst, players="city", receptor_owner: Mapping | None = None) -> Players:
    """The players of ``players`` on the instance's region (see the module docstring)."""
    d = inst.data
    cities = tuple(d.cities)
    index = {c: s for s, c in enumerate(cities)}
    if isinstance(players, (str, Path)) and str(players) not in KINDS:
        if not Path(players).exists():
            raise _problem(f"players must be one of {', '.join(KINDS)}, a mapping or a CSV/YAML "
                           f"file; {str(players)!r} is none of them"
                           + did_you_mean(players, KINDS))
        players = read_players_file(players)
    if isinstance(players, str):
        kind = players
        if kind == "city":
            groups = [str(c) for c in cities]
        elif kind == "province":
            groups = d.city_table.loc[list(cities), "province"].astype(str).tolist()
        else:
            groups = [str(z) for z in d.zone]
        names = tuple(sorted(set(groups))) if kind != "city" else tuple(groups)
        pos = {p: i for i, p in enumerate(names)}
        city_player = np.array([pos[g] for g in groups], dtype=int)
    elif isinstance(players, Mapping):
        kind = "mapping"
        names, city_player = _from_mapping(players, index)
    else:
        raise _problem(f"players must be one of {', '.join(KINDS)}, a mapping or a file, not "
                       f"{type(players).__name__}")
    if len(names) < 1:
        raise _problem("the game has no player")
    if len(names) > MAX_PLAYERS:
        raise _problem(f"{len(names)} players: at most {MAX_PLAYERS} are supported (group the "
                       "cities, e.g. players: province)")
    empty = [p for i, p in enumerate(names) if not (city_player == i).any()]
    if empty:
        raise _problem(f"player(s) {', '.join(empty)} have no city")
    rec_player, rule = _receptor_players(d, city_player, index, receptor_owner or {})
    return Players(kind, tuple(str(n) for n in names), cities, city_player, tuple(d.receptors),
                   rec_player, tuple(rule))


def _from_mapping(mapping: Mapping, index: dict) -> tuple[tuple[str, ...], np.ndarray]:
    """{player: [cities]} or {city: player} -> (names, [S] player of each city, -1 outside)."""
    pairs: list[tuple[str, str]] = []  # (city, player)
    if all(isinstance(v, (list, tuple)) for v in mapping.values()):
        pairs = [(str(c), str(p)) for p, cs in mapping.items() for c in cs]
    elif all(isinstance(v, (str, int)) for v in mapping.values()):
        pairs = [(str(c), str(p)) for c, p in mapping.items()]
    else:
        raise _problem("a players mapping is either {player: [city, ...]} or {city: player}")
    problems, seen = [], {}
    for c, p in pairs:
        if c not in index:
            problems.append(Problem("players", f"city {c!r} (player {p!r}) is not a city of the "
                                               "region" + did_you_mean(c, index), column="players"))
        elif c in seen and seen[c] != p:
            problems.append(Problem("players", f"city {c!r} is in two players: {seen[c]!r} and "
                                               f"{p!r}", column="players"))
        seen[c] = p
    if problems:
        raise InputError(problems)
    names = tuple(dict.fromkeys(p for _, p in pairs))
    pos = {p: i for i, p in enumerate(names)}
    city_player = np.full(len(index), -1, dtype=int)
    for c, p in pairs:
        city_player[index[c]] = pos[p]
    return names, city_player


def _receptor_players(d, city_player: np.ndarray, index: dict, owner: Mapping):
    """[R] player of each receptor (-1: a city outside the game) and how it was found."""
    e_kt = d.emission_city_t / 1e3  # [S, P]
    players, rules, problems = [], [], []
    for r, rid in enumerate(d.receptors):
        if rid in owner:
            city = str(owner[rid])
            if city not in index:
                problems.append(Problem("receptor_owner", f"receptor {rid!r}: {city!r} is not a "
                                        "city of the region" + did_you_mean(city, index)))
                players.append(-1)
                rules.append("")
                continue
            rule = f"given: {city}"
        elif rid in index:
            city, rule = rid, "same id"
        else:
            T = d.transport_ugm3_per_kt[:, r] if d.transport_ugm3_per_kt.size else np.zeros((0,))
            contrib = (np.maximum(T, 0.0) * e_kt[None]).sum(axis=(0, 2)) if T.size else np.zeros(len(index))
            city = d.cities[int(np.argmax(contrib))]
            rule = f"largest contributor: {city}"
        players.append(int(city_player[index[city]]))
        rules.append(rule)
    if problems:
        raise InputError(problems)
    return np.array(players, dtype=int), rules
