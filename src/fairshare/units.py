"""Unit conversions between the files (t/yr, CNY/yr, bn CNY, fractions of GDP) and the
model (kt/yr, million CNY/yr, basis points), in one place.

The model is scaled so that its coefficients stay near 1: real regions mix costs of
1e9 CNY/yr with transport coefficients of 1e-4 µg/m³ per kt, and an unscaled LP of that
kind has been seen to stop HiGHS's dual simplex with no status.
"""

T_PER_KT = 1000.0          # tonnes per kilotonne
CNY_PER_MCNY = 1e6         # CNY per million CNY
CNY_PER_BN_CNY = 1e9       # CNY per billion CNY
MCNY_PER_BN_CNY = 1000.0   # million CNY per billion CNY
BP = 1e4                   # basis points per unit share of GDP (1 bp = 0.01 % of GDP)
