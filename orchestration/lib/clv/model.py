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


RESTARTS = 3  # from where a line search gave up
FLAT = 1e-5  # a slope below this share of the log-likelihood per log-parameter is the top


def _fit(negative_ll, start: np.ndarray, names: tuple[str, ...], customers: int,
         gradient=None) -> Fit:
    """L-BFGS-B from `start`, with the analytic `gradient` of `negative_ll` when given. On a
    flat ridge (a base in which hardly anyone drops out sends BG/NBD's a and b towards
    infinity together) its line search can give up short of the top: it is then started
    again from where it stopped. The fit counts as converged when a run does, or when it
    stopped where the likelihood is flat: no log-parameter, moved by 1, would change the
    log-likelihood by FLAT of itself (a slope that only pushes past a bound does not count).
    """
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)

    def run(origin):
        return optimize.minimize(negative_ll, origin, jac=gradient, method="L-BFGS-B",
                                 bounds=bounds,
                                 options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8})

    found = run(start)
    converged, message = bool(found.success), str(found.message)
    for _ in range(RESTARTS if not converged else 0):
        again = run(found.x)
        if again.fun <= found.fun:
            found = again
        if again.success:
            converged = True
            message = f"{again.message} (restarted where a line search gave up)"
            break
    if not converged and gradient is not None and np.isfinite(found.fun):
        slope = np.asarray(gradient(found.x), dtype=float)
        slope[(found.x >= LOG_BOUND) & (slope < 0)] = 0.0  # pushes past the upper bound
        slope[(found.x <= -LOG_BOUND) & (slope > 0)] = 0.0  # or past the lower one
        largest = float(np.max(np.abs(slope)))
        if largest <= FLAT * max(1.0, abs(found.fun)):
            converged = True
            message = (f"{message}; stopped where the likelihood is flat (largest slope "
                       f"{largest:.2g} per log-parameter)")
    values = np.exp(found.x)
    converged = converged and bool(np.isfinite(found.fun))
    return Fit(dict(zip(names, (float(v) for v in values), strict=True)), float(-found.fun),
               customers, converged, message)


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
    """Maximum likelihood over customers with x repeat purchases, t_x and T in weeks.

    The sum of eq. 6 over the customers, computed as bg_nbd_log_likelihoods does, but each
    term that depends on x alone (the gamma and beta functions) once per distinct x: a base
    has a few hundred distinct counts of purchases, not one per customer."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if len(x) == 0:
        return Fit(dict.fromkeys(BG_NBD_PARAMETERS, float("nan")), float("nan"), 0, False,
                   "no customer with a purchase")
    negative_ll, gradient = bg_nbd_objective(x, t_x, T)
    start = np.log([1.0, max(float(np.mean(T)), 1.0), 1.0, 1.0])
    return _fit(negative_ll, start, BG_NBD_PARAMETERS, len(x), gradient)


def bg_nbd_objective(x, t_x, T):
    """The negative log-likelihood of BG/NBD over the customers, and its gradient, both of
    the logarithms of (r, alpha, a, b)."""
    counts, per_customer = np.unique(x, return_inverse=True)
    repeat = x > 0
    counts_repeat = np.maximum(counts, 1.0)  # x = 0 has no 'dropped' term (masked below)
    t_x_repeat = np.where(repeat, t_x, T)

    def negative_ll(log_params):
        r, alpha, a, b = np.exp(log_params)
        by_count = special.gammaln(r + counts) - special.gammaln(r) + r * np.log(alpha)
        survived_beta = special.betaln(a, b + counts) - special.betaln(a, b)
        dropped_beta = (special.betaln(a + 1, b + counts_repeat - 1) - special.betaln(a, b))
        r_x = r + x
        survived = survived_beta[per_customer] - r_x * np.log(alpha + T)
        dropped = np.where(repeat, dropped_beta[per_customer]
                           - r_x * np.log(alpha + t_x_repeat), -np.inf)
        value = -(by_count[per_customer].sum() + np.logaddexp(survived, dropped).sum())
        return value if np.isfinite(value) else 1e300

    def gradient(log_params):
        """d(negative_ll) / d(log r, log alpha, log a, log b), from the derivatives of eq. 6:
        each customer's terms weighted by the posterior shares of 'still alive' (w) and
        'dropped after its last purchase' (1 - w)."""
        r, alpha, a, b = np.exp(log_params)
        r_x = r + x
        log_t = np.log(alpha + T)
        log_t_x = np.log(alpha + t_x_repeat)
        psi = special.digamma
        ab_x = psi(a + b + counts)
        d_survived_a = psi(a + b) - ab_x
        d_survived_b = psi(b + counts) - ab_x - psi(b) + psi(a + b)
        d_dropped_a = psi(a + 1) - ab_x - psi(a) + psi(a + b)
        d_dropped_b = psi(b + counts_repeat - 1) - ab_x - psi(b) + psi(a + b)
        survived = (special.betaln(a, b + counts)[per_customer] - r_x * log_t)
        dropped = np.where(repeat, special.betaln(a + 1, b + counts_repeat - 1)[per_customer]
                           - r_x * log_t_x, -np.inf)
        w = np.exp(survived - np.logaddexp(survived, dropped))  # the share of survived
        d_r = (psi(r + counts)[per_customer] - psi(r) + np.log(alpha)
               - w * log_t - (1 - w) * np.where(repeat, log_t_x, 0.0))
        d_alpha = (r / alpha - w * r_x / (alpha + T)
                   - (1 - w) * np.where(repeat, r_x / (alpha + t_x_repeat), 0.0))
        d_a = w * d_survived_a[per_customer] + (1 - w) * d_dropped_a[per_customer]
        d_b = w * d_survived_b[per_customer] + (1 - w) * d_dropped_b[per_customer]
        return -np.array([r * d_r.sum(), alpha * d_alpha.sum(), a * d_a.sum(), b * d_b.sum()])

    return negative_ll, gradient


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

    negative_ll, gradient = gamma_gamma_objective(x, m)
    start = np.log([1.0, 2.0, max(float(np.mean(m)), 1e-6)])
    return _fit(negative_ll, start, GAMMA_GAMMA_PARAMETERS, len(x), gradient)


def gamma_gamma_objective(x, m):
    """The negative log-likelihood of Gamma-Gamma over the customers, and its gradient, both
    of the logarithms of (p, q, gamma): the sum of the appendix's log-likelihoods
    (gamma_gamma_log_likelihoods), its gamma functions once per distinct x. With the
    gradient, L-BFGS-B needs no differences of its own, whose noise could end its line search
    short of the top."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    counts, per_customer = np.unique(x, return_inverse=True)
    log_m, log_x = np.log(m), np.log(x)

    def negative_ll(log_params):
        p, q, gamma = np.exp(log_params)
        by_count = (special.gammaln(p * counts + q) - special.gammaln(p * counts)
                    - special.gammaln(q) + q * np.log(gamma))
        px = p * x
        value = -(by_count[per_customer].sum()
                  + np.sum((px - 1) * log_m + px * log_x - (px + q) * np.log(gamma + m * x)))
        return value if np.isfinite(value) else 1e300

    def gradient(log_params):
        """d(negative_ll) / d(log p, log q, log gamma), from the derivatives of the
        appendix's log-likelihood by p, q and gamma."""
        p, q, gamma = np.exp(log_params)
        px = p * x
        psi = special.digamma
        log_gm = np.log(gamma + m * x)
        by_count = psi(p * counts + q)[per_customer]
        d_p = x * (by_count - psi(p * counts)[per_customer] + log_m + log_x - log_gm)
        d_q = by_count - psi(q) + np.log(gamma) - log_gm
        d_gamma = q / gamma - (px + q) / (gamma + m * x)
        return -np.array([p * d_p.sum(), q * d_q.sum(), gamma * d_gamma.sum()])

    return negative_ll, gradient


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
