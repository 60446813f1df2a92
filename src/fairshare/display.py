"""One display unit per quantity, for everything a person reads (printed summaries,
reports, plots); files keep base units with the unit in the column name.

=====================  ==========================  ===================================
quantity               in the files                shown as
=====================  ==========================  ===================================
cost                   CNY/yr (``*_cny``)          million CNY/yr ("M CNY/yr"); totals
                                                   also bn CNY/yr
burden                 fraction of GDP             % of GDP
concentration          µg/m³ (``*_ugm3``)          µg/m³
emission, reduction    t/yr (``*_t``)              t/yr
shadow price (target)  CNY/yr per µg/m³            M CNY/yr per µg/m³
shadow price (cap)     CNY/yr per t                CNY/t
share, ratio           fraction                    %
=====================  ==========================  ===================================

Tables show names beside ids (from the region's ``cities.csv`` and ``measures.csv``).
"""

from __future__ import annotations

import math

import pandas as pd

M = 1e6   # CNY per million CNY
BN = 1e9  # CNY per billion CNY
TOP_ROWS = 15  # rows of a long table printed before "… N more"


def money_m(cny: float) -> str:
    """CNY/yr as million CNY/yr, e.g. '6,597.3'."""
    return _num(cny / M, 1)


def money_bn(cny: float) -> str:
    return _num(cny / BN, 2)


def percent(share: float, digits: int = 2) -> str:
    """A fraction as a percent, e.g. 0.0021 -> '0.21%'."""
    return "–" if share is None or _missing(share) else f"{100 * share:.{digits}f}%"


def _num(value: float, digits: int) -> str:
    return "–" if value is None or _missing(value) else f"{value:,.{digits}f}"


def _missing(value) -> bool:
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def city_names(data) -> dict[str, str]:
    """city id -> name (the id where the region gives none)."""
    table = data.city_table
    if "name" not in table.columns:
        return {c: c for c in data.cities}
    names = table["name"].astype(object).where(table["name"].notna(), None)
    return {c: (str(names.get(c)) if names.get(c) else c) for c in data.cities}


def measure_names(data) -> dict[str, str]:
    table = data.measure_table
    if "name" not in table.columns:
        return {m: m for m in data.measures}
    return {m: (str(n) if isinstance(n, str) and n.strip() else m)
            for m, n in table["name"].items()}


def text_table(frame: pd.DataFrame, formats: dict, top: int | None = TOP_ROWS,
               what: str = "rows") -> str:
    """A table for the terminal: the columns of ``formats`` (header -> function of a row),
    the first ``top`` rows, then '… N more <what>'."""
    shown = frame if top is None else frame.head(top)
    body = pd.DataFrame({header: [fmt(row) for _, row in shown.iterrows()]
                         for header, fmt in formats.items()})
    text = body.to_string(index=False) if len(body) else "(none)"
    if top is not None and len(frame) > top:
        text += f"\n… {len(frame) - top} more {what}"
    return text
