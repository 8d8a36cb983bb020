"""The purchase model: BG/NBD for the number of purchases, Gamma-Gamma for their value.

Plain numpy/scipy, written from the published likelihoods:
- BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative
  to the Pareto/NBD model", Marketing Science 24(2). While alive a customer buys at a Poisson
  rate lambda ~ Gamma(r, alpha); after each purchase it drops out with probability
  p ~ Beta(a, b). A customer is summarised by x (repeat purchases), t_x (the time of its last
  purchase) and T (the time since its first), all from its first purchase.
- Gamma-Gamma: Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer
  base analysis", Journal of Marketing Research 42(4). The value of a purchase is
  Gamma(p, nu) around the customer's mean, with nu ~ Gamma(q, gamma) across customers; it is
  fitted on the x repeat purchases and their mean value m (the first purchase left out), and
  holds positive values only.

Both are fitted by maximum likelihood over the logarithms of their parameters (L-BFGS-B, the
logarithms bounded so that a degenerate sample ends at a bound instead of overflowing). Time
is in weeks, the literature's unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

DAYS_PER_WEEK = 7.0
DAYS_PER_MONTH = 365.25 / 12
LOG_BOUND = 12.0  # |log parameter| <= 12: e^12 ~ 160,000
BG_NBD_PARAMETERS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS = ("p", "q", "gamma")


@dataclass(frozen=True)
class Fit:
    """A fitted model: its parameters (by the literature's names), the maximised
    log-likelihood, the customers it was fitted on, and whether the optimiser converged."""

    parameters: dict[str, float]
    log_likelihood: float
    customers: int
    converged: bool
    message: str

    def __getitem__(self, name: str) -> float:
        return self.parameters[name]


def _fit(negative_ll, start: np.ndarray, names: tuple[str, ...], customers: int) -> Fit:
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    found = optimize.minimize(negative_ll, start, method="L-BFGS-B", bounds=bounds,
                              options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8})
    values = np.exp(found.x)
    converged = bool(found.success) and bool(np.isfinite(found.fun))
    return Fit(dict(zip(names, (float(v) for v in values), strict=True)), float(-found.fun),
               customers, converged, str(found.message))


# --- BG/NBD ---------------------------------------------------------------------------------

def bg_nbd_log_likelihoods(r, alpha, a, b, x, t_x, T) -> np.ndarray:
    """Each customer's log-likelihood (FHL 2005, eq. 6)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    survived = (special.betaln(a, b + x) - special.betaln(a, b)
                - (r + x) * np.log(alpha + T))
    repeat = x > 0
    dropped = np.full_like(x, -np.inf)
    dropped[repeat] = (special.betaln(a + 1, b + x[repeat] - 1) - special.betaln(a, b)
                       - (r + x[repeat]) * np.log(alpha + t_x[repeat]))
    return common + np.logaddexp(survived, dropped)


def fit_bg_nbd(x, t_x, T) -> Fit:
    """Maximum likelihood over customers with x repeat purchases, t_x and T in weeks."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if len(x) == 0:
        return Fit(dict.fromkeys(BG_NBD_PARAMETERS, float("nan")), float("nan"), 0, False,
                   "no customer with a purchase")

    def negative_ll(log_params):
        r, alpha, a, b = np.exp(log_params)
        value = -np.sum(bg_nbd_log_likelihoods(r, alpha, a, b, x, t_x, T))
        return value if np.isfinite(value) else 1e300

    start = np.log([1.0, max(float(np.mean(T)), 1.0), 1.0, 1.0])
    return _fit(negative_ll, start, BG_NBD_PARAMETERS, len(x))


def p_alive(fit: Fit, x, t_x, T) -> np.ndarray:
    """P(alive | x, t_x, T) (FHL 2005, eq. 11): 1 for a customer without a repeat purchase,
    whom the model lets drop out only after a purchase."""
    r, alpha, a, b = (fit[n] for n in BG_NBD_PARAMETERS)
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    out = np.ones_like(x)
    repeat = x > 0
    xr = x[repeat]
    log_ratio = (np.log(a) - np.log(b + xr - 1)
                 + (r + xr) * (np.log(alpha + T[repeat]) - np.log(alpha + t_x[repeat])))
    out[repeat] = 1.0 / (1.0 + np.exp(log_ratio))
    return out


def expected_purchases(fit: Fit, t, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] (FHL 2005, eq. 10), t in weeks."""
    r, alpha, a, b = (fit[n] for n in BG_NBD_PARAMETERS)
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    t = float(t)
    if t <= 0:
        return np.zeros_like(x)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    numerator = ((a + b + x - 1) / (a - 1)
                 * (1 - np.power((alpha + T) / (alpha + T + t), r + x) * hyp))
    # eq. 10's denominator is that of P(alive), eq. 11
    return numerator * p_alive(fit, x, t_x, T)


# --- Gamma-Gamma ------------------------------------------------------------------------------

def gamma_gamma_log_likelihoods(p, q, gamma, x, m) -> np.ndarray:
    """Each customer's log-likelihood of its mean value m over x >= 1 repeat purchases
    (FHL 2005, "RFM and CLV", appendix), m > 0."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    return (special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q)
            + q * np.log(gamma) + (p * x - 1) * np.log(m) + p * x * np.log(x)
            - (p * x + q) * np.log(gamma + m * x))


def fit_gamma_gamma(x, m) -> Fit:
    """Maximum likelihood over the customers with x >= 1 and a positive mean value m."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    if len(x) == 0:
        return Fit(dict.fromkeys(GAMMA_GAMMA_PARAMETERS, float("nan")), float("nan"), 0,
                   False, "no customer with a repeat purchase of positive value")
    if np.any(x < 1) or np.any(m <= 0):
        raise ValueError("Gamma-Gamma is fitted on x >= 1 repeat purchases of positive mean")

    def negative_ll(log_params):
        p, q, gamma = np.exp(log_params)
        value = -np.sum(gamma_gamma_log_likelihoods(p, q, gamma, x, m))
        return value if np.isfinite(value) else 1e300

    start = np.log([1.0, 2.0, max(float(np.mean(m)), 1e-6)])
    return _fit(negative_ll, start, GAMMA_GAMMA_PARAMETERS, len(x))


def population_mean_value(fit: Fit) -> float:
    """E[M] = p gamma / (q - 1) of a customer the model knows nothing of; infinite when
    q <= 1."""
    p, q, gamma = (fit[n] for n in GAMMA_GAMMA_PARAMETERS)
    return p * gamma / (q - 1) if q > 1 else float("inf")


def conditional_mean_value(fit: Fit, x, m) -> np.ndarray:
    """E[M | x, m] = p (gamma + x m) / (p x + q - 1): the customer's own mean shrunk towards
    the population's; the population's (x = 0) for a customer without a repeat purchase."""
    p, q, gamma = (fit[n] for n in GAMMA_GAMMA_PARAMETERS)
    x, m = np.asarray(x, dtype=float), np.nan_to_num(np.asarray(m, dtype=float))
    return p * (gamma + x * m) / (p * x + q - 1)
