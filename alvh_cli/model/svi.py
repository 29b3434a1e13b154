"""Raw SVI smiles: evaluation, fitting to implied vols, arbitrage checks, interpolation in time.

Raw SVI (Gatheral 2004, "A parsimonious arbitrage-free implied volatility
parameterization", Global Derivatives) gives the total implied variance of one
expiry as a function of log-forward-moneyness ``k = ln(K/F)``::

    w(k) = a + b·(ρ·(k − m) + sqrt((k − m)² + σ²)),     iv(k) = sqrt(w(k) / T)

with ``b ≥ 0``, ``|ρ| < 1``, ``σ > 0`` and a non-negative minimum
``a + b·σ·sqrt(1 − ρ²) ≥ 0``. ``w`` is in years·vol² (0.04 = 20 vol over one
year), ``T`` in years (ACT/365), ``k`` dimensionless.

Why one long module (about 670 lines): the fit, its arbitrage repair and the time
interpolation all work on the same raw-SVI formulas and their derivatives; apart, each
would re-derive them.

Butterfly arbitrage: a slice is free of it where Durrleman's function
``g(k) = (1 − k·w'/(2w))² − (w'²/4)·(1/w + 1/4) + w''/2`` is non-negative
(Gatheral & Jacquier 2014, "Arbitrage-free SVI volatility surfaces",
Quantitative Finance 14(1), Lemma 2.2: the risk-neutral density is
``g(k)/sqrt(2πw)·exp(−d₋²/2)``).

Between expiries, total variance is interpolated linearly in ``T`` at fixed
``k``; see :func:`interpolate_total_variance` for the rules and their
calendar-arbitrage caveat.

Only numpy is imported: the fit is its own Levenberg-Marquardt, run on every
expiry of a chain at once (:func:`fit_svi_many`), so fitting needs no scipy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = [
    "CalendarViolation",
    "SviFit",
    "SviParams",
    "calendar_violations",
    "durrleman_g",
    "fit_svi",
    "fit_svi_many",
    "interpolate_total_variance",
    "interpolate_vol",
    "svi_total_variance",
    "svi_vol",
]

MIN_POINTS = 5
"""A raw SVI slice has five parameters: fewer quotes cannot determine it."""

RHO_MAX = 0.999
"""|ρ| is kept below this: at |ρ| = 1 one wing is flat and the fit degenerates."""

SIGMA_BOUNDS = (1e-4, 5.0)
"""Bounds on σ (log-moneyness units): below 1e-4 the vertex is a kink, above 5 a parabola."""

B_MAX = 2.0
"""Upper bound on b: Lee's moment formula (Lee 2004, "The moment formula for implied
volatility at extreme strikes") caps the wing slopes of total variance at 2, and
b·(1 + |ρ|) is the steeper slope, so b ≤ 2 loses no admissible smile."""

FTOL = 1e-6
"""The fit stops when an iteration lowers the cost by less than this fraction of it: the
RMS error then moves by less than 5e-7 of itself (a 0.05-point fit by 2.5e-8 points)."""

GUESS_POINTS = 48
"""The initial guess judges its grid on at most this many quotes of an expiry, evenly
spaced: enough to find the smile's basin, a third of the work of a full chain's 150."""

GRID_ROUNDS = 4
"""Grids of (m, σ) the initial guess searches: a 7×7 grid, then 5×5 ones each half as wide."""

MAX_EVALUATIONS = 200
"""Residual evaluations allowed a fit (``converged`` is False when they run out)."""

G_MARGIN = 1e-4
"""The butterfly repair pushes g(k) to at least this, so rounding cannot leave it below 0."""

CHECK_GRID = 201
"""Points between the outermost fitted strikes where g(k) is checked besides the strikes."""

_W_FLOOR = 1e-12  # total variance floor inside sqrt: a vol of 1e-6/sqrt(T), never reached by a fit


@dataclass(frozen=True)
class SviParams:
    """Raw SVI parameters of one expiry (Gatheral 2004).

    ``a`` total variance level (years·vol²), ``b`` ≥ 0 wing slope, ``rho`` in
    (−1, 1) skew, ``m`` horizontal shift and ``sigma`` > 0 curvature at the
    vertex, both in log-moneyness. Fields may be numpy arrays of one shape
    (one slice per element) for vectorised evaluation.
    """

    a: float
    b: float
    rho: float
    m: float
    sigma: float

    @property
    def min_total_variance(self) -> float:
        """The smallest total variance of the slice, ``a + b·σ·sqrt(1 − ρ²)``."""
        return self.a + self.b * self.sigma * np.sqrt(1.0 - self.rho * self.rho)


def svi_total_variance(params: SviParams, k) -> np.ndarray:
    """Total implied variance ``w(k)`` (years·vol²) at log-moneyness ``k = ln(K/F)``."""
    k = np.asarray(k, dtype=float)
    d = k - params.m
    return params.a + params.b * (params.rho * d + np.sqrt(d * d + params.sigma * params.sigma))


def svi_vol(params: SviParams, k, T) -> np.ndarray:
    """Implied volatility (decimal) ``sqrt(w(k)/T)``; broadcasts over ``k`` and ``T`` (years).

    NaN where ``T ≤ 0`` or the parameters give a negative total variance.
    """
    w = svi_total_variance(params, k)
    T = np.asarray(T, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((T > 0) & (w >= 0), np.sqrt(w / T), np.nan)


def _derivatives(params: SviParams, k) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``w``, ``dw/dk`` and ``d²w/dk²`` of raw SVI at ``k``."""
    k = np.asarray(k, dtype=float)
    d = k - params.m
    s2 = params.sigma * params.sigma
    r = np.sqrt(d * d + s2)
    w = params.a + params.b * (params.rho * d + r)
    w1 = params.b * (params.rho + d / r)
    w2 = params.b * s2 / (r * r * r)
    return w, w1, w2


def durrleman_g(params: SviParams, k) -> np.ndarray:
    """Durrleman's ``g(k)``; the slice is free of butterfly arbitrage where ``g ≥ 0``.

    ``g(k) = (1 − k·w'/(2w))² − (w'²/4)·(1/w + 1/4) + w''/2`` (Gatheral &
    Jacquier 2014, eq. 2.1). ``−inf`` where ``w ≤ 0`` (no density there).
    """
    k = np.asarray(k, dtype=float)
    w, w1, w2 = _derivatives(params, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (1.0 - k * w1 / (2.0 * w)) ** 2 - 0.25 * w1 * w1 * (1.0 / w + 0.25) + 0.5 * w2
    return np.where(w > 0, g, -np.inf)


@dataclass(frozen=True)
class SviFit:
    """A raw SVI slice fitted to one expiry's implied vols, and how well it fits.

    ``rms_vol_points`` and ``max_error_vol_points`` are the unweighted RMS and
    largest absolute differences between fitted and market implied vols, in
    volatility points (1.0 = 0.01). ``min_g`` is the smallest Durrleman g over
    the fitted strikes and ``CHECK_GRID`` points between them;
    ``butterfly_free`` is ``min_g ≥ 0``. ``repaired`` says the unconstrained
    fit had butterfly arbitrage and was refitted with a penalty on negative g
    (its error is then larger than the best unconstrained fit's).
    ``k_min``/``k_max`` bound the fitted log-moneyness.
    """

    params: SviParams
    T: float
    n_points: int
    rms_vol_points: float
    max_error_vol_points: float
    butterfly_free: bool
    min_g: float
    k_min: float
    k_max: float
    repaired: bool = False
    converged: bool = True


def fit_svi(k, iv, T: float, weights=None) -> SviFit:
    """Fit raw SVI to implied vols ``iv`` (decimal) at log-moneyness ``k`` for ``T`` years.

    Least squares on implied-vol residuals, each squared residual weighted by
    ``weights`` (typically the option's vega, so a quote counts by how much
    its price pins its vol; uniform when None), solved by Levenberg-Marquardt
    with an analytic Jacobian (:func:`_levenberg_marquardt`).

    The unknowns are ``(v, b, ρ, m, σ)`` with ``v = a + b·σ·sqrt(1 − ρ²)``
    the minimum total variance, so the constraint ``a + b·σ·sqrt(1 − ρ²) ≥ 0``
    becomes the bound ``v > 0``. Bounds: ``v > 0``; ``0 < b < 2`` (Lee:
    see ``B_MAX``); ``|ρ| < 0.999``; ``σ`` in ``SIGMA_BOUNDS``; ``m`` within
    one fitted range of the fitted strikes. They are imposed by a smooth
    change of variables (``v = e^u``, the others a logistic map onto their
    interval, σ's in log scale), so every step is a valid SVI slice and the
    solver needs no bounds of its own.

    Initial guess: the quasi-explicit method of De Marco & Martini (Zeliade
    white paper, 2009, "Quasi-explicit calibration of Gatheral's SVI model"):
    for fixed ``(m, σ)`` SVI is linear in ``(a, b·ρ·σ, b·σ)``, solved by
    weighted linear least squares on total variance, over refined grids of
    ``(m, σ)``; see :func:`_initial_guess`.

    Stops when an accepted step lowers the cost by less than ``FTOL`` of it
    (and the local model predicted no more: a market's vols do not pin SVI
    further, its parameters trade off along flat valleys with no visible
    change in the fit), when the step or the gradient vanishes, or after
    ``MAX_EVALUATIONS``.

    When the result has ``g < 0`` on the fitted range, the fit is redone with
    penalty residuals on ``g < G_MARGIN`` there (``repaired=True``).

    Non-finite ``k``/``iv`` are dropped. Raises ``ValueError`` with fewer than
    ``MIN_POINTS`` usable points or ``T ≤ 0``. :func:`fit_svi_many` fits many
    expiries at once, each exactly as here.
    """
    return fit_svi_many([(k, iv, T, weights)])[0]


def fit_svi_many(smiles) -> list[SviFit]:
    """:func:`fit_svi` of every ``(k, iv, T, weights)`` in ``smiles``, solved together.

    Each expiry is its own least-squares problem (its own steps, damping and
    stopping), but the arithmetic of all of them runs in one set of numpy
    calls per iteration: a chain's thirty expiries cost little more than one.
    """
    cleaned = [_clean(k, iv, T, w) for k, iv, T, w in smiles]
    if not cleaned:
        return []
    n = max(c[0].size for c in cleaned)
    B = len(cleaned)
    K = np.empty((B, n))
    IV = np.ones((B, n))
    WT = np.zeros((B, n))
    T = np.array([c[3] for c in cleaned])
    for j, (k, iv, wt, _) in enumerate(cleaned):
        K[j, : k.size], K[j, k.size :] = k, k[0]  # padding: weight 0, any finite k
        IV[j, : k.size] = iv
        WT[j, : k.size] = wt / wt.max()
    k_lo = np.array([c[0].min() for c in cleaned])
    k_hi = np.array([c[0].max() for c in cleaned])
    box = _Box(k_lo, k_hi)
    problem = _Problem(K, IV, np.sqrt(WT), T, box)
    x0 = _initial_guess(*_thinned([c[0].size for c in cleaned], K, IV, WT), T, box)
    u, converged = _levenberg_marquardt(problem.residuals, box.u(x0))
    x = box.x(u)
    fits = []
    for j, (k, iv, _, Tj) in enumerate(cleaned):
        k_check = np.concatenate([k, np.linspace(k_lo[j], k_hi[j], CHECK_GRID)])
        xj, conv, repaired = x[j], bool(converged[j]), False
        if np.min(durrleman_g(_params(xj), k_check)) < 0:
            xj, conv = _repair(problem, j, u[j], k_check)
            repaired = True
        fits.append(_result(xj, k, iv, Tj, k_check, repaired=repaired, converged=conv))
    return fits


def _thinned(sizes: list[int], K: np.ndarray, IV: np.ndarray, WT: np.ndarray):
    """``K``, ``IV``, ``WT`` (expiries × points, padded) at no more than ``GUESS_POINTS``
    points of each expiry, evenly spaced among its own; padding weighted 0 as before."""
    m = min(max(sizes), GUESS_POINTS)
    k, iv, wt = np.empty((len(sizes), m)), np.ones((len(sizes), m)), np.zeros((len(sizes), m))
    for j, n in enumerate(sizes):
        take = np.unique(np.linspace(0, n - 1, min(n, m)).round().astype(int))
        k[j, : take.size], k[j, take.size :] = K[j, take], K[j, 0]
        iv[j, : take.size], wt[j, : take.size] = IV[j, take], WT[j, take]
    return k, iv, wt


def _clean(k, iv, T, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The usable points of one expiry: finite ``k``, positive finite vols and weights."""
    k = np.asarray(k, dtype=float).ravel()
    iv = np.asarray(iv, dtype=float).ravel()
    wt = np.ones_like(k) if weights is None else np.asarray(weights, dtype=float).ravel()
    if not (k.shape == iv.shape == wt.shape):
        raise ValueError("k, iv and weights must have the same length")
    if not T > 0:
        raise ValueError(f"T must be > 0 years, got {T}")
    ok = np.isfinite(k) & np.isfinite(iv) & (iv > 0) & np.isfinite(wt) & (wt > 0)
    if np.count_nonzero(ok) < MIN_POINTS:
        raise ValueError(
            f"{np.count_nonzero(ok)} usable implied vols; raw SVI needs at least {MIN_POINTS}"
        )
    return k[ok], iv[ok], wt[ok], float(T)


class _Box:
    """The bounds of ``x = (v, b, ρ, m, σ)`` as a smooth map from unconstrained ``u``.

    ``v = e^u₀``; ``b``, ``ρ``, ``m`` and ``ln σ`` are ``lo + (hi − lo)·s(u)``
    with the logistic ``s(u) = 1/(1 + e^−u)``. One row per expiry (arrays of
    shape (expiries, 5)); ``rows`` picks some of them.
    """

    def __init__(self, k_lo: np.ndarray, k_hi: np.ndarray):
        span = np.maximum(k_hi - k_lo, 1e-3)
        ones = np.ones_like(k_lo)
        self.lo = np.stack(
            [0 * ones, 0 * ones, -RHO_MAX * ones, k_lo - span, np.log(SIGMA_BOUNDS[0]) * ones], 1
        )
        self.hi = np.stack(
            [0 * ones, B_MAX * ones, RHO_MAX * ones, k_hi + span, np.log(SIGMA_BOUNDS[1]) * ones], 1
        )
        self.width = self.hi - self.lo

    def x(self, u: np.ndarray, rows=slice(None)) -> np.ndarray:
        s = 0.5 * (1.0 + np.tanh(0.5 * u))  # logistic, without overflow
        x = self.lo[rows] + self.width[rows] * s
        x[:, 0] = np.exp(u[:, 0])
        x[:, 4] = np.exp(x[:, 4])
        return x

    def dx_du(self, u: np.ndarray, rows=slice(None)) -> np.ndarray:
        s = 0.5 * (1.0 + np.tanh(0.5 * u))
        width = self.width[rows]
        d = width * s * (1.0 - s)
        d[:, 0] = np.exp(u[:, 0])
        d[:, 4] *= np.exp(self.lo[rows][:, 4] + width[:, 4] * s[:, 4])
        return d

    def u(self, x: np.ndarray) -> np.ndarray:
        """The inverse map, for points strictly inside the bounds (clipped just inside)."""
        z = np.array(x, dtype=float)
        z[:, 4] = np.log(z[:, 4])
        s = np.clip((z - self.lo) / np.where(self.width > 0, self.width, 1.0), 1e-9, 1 - 1e-9)
        u = np.log(s / (1.0 - s))
        u[:, 0] = np.log(np.maximum(x[:, 0], 1e-12))
        return u


class _Problem:
    """The weighted vol residuals ``√wt·(sqrt(w(k)/T) − iv)`` of padded expiries, and their
    Jacobian in the unconstrained ``u``; ``rows`` picks the expiries to evaluate."""

    def __init__(self, K, IV, SW, T, box: _Box):
        self.K, self.IV, self.SW, self.T, self.box = K, IV, SW, T[:, None], box

    def residuals(self, u: np.ndarray, rows, need_jac: bool = False):
        """The residuals (rows × points), and with ``need_jac`` also their Jacobian
        (rows × points × 5): ``(r, J)``; ``(r, None)`` without."""
        x = self.box.x(u, rows)
        k, sw, T = self.K[rows], self.SW[rows], self.T[rows]
        w = np.maximum(_total_variance(x, k), _W_FLOOR)
        r = sw * (np.sqrt(w / T) - self.IV[rows])
        if not need_jac:
            return r, None
        dvol = sw * 0.5 / np.sqrt(w * T)
        return r, dvol[:, :, None] * _total_variance_jac(x, k) * self.box.dx_du(u, rows)[:, None, :]


def _params(x) -> SviParams:
    """Raw SVI parameters from the fitted vector ``(v, b, ρ, m, σ)``."""
    v, b, rho, m, sigma = (float(t) for t in x)
    return SviParams(float(v - b * sigma * np.sqrt(1.0 - rho * rho)), b, rho, m, sigma)


def _columns(x: np.ndarray):
    """``v, b, ρ, m, σ`` of each row of ``x`` as (rows, 1) columns."""
    return (x[:, i : i + 1] for i in range(5))


def _total_variance(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Total variance at ``k`` (rows × points) for each row ``x = (v, b, ρ, m, σ)``."""
    v, b, rho, m, s = _columns(x)
    d = k - m
    return v - b * s * np.sqrt(1.0 - rho * rho) + b * (rho * d + np.sqrt(d * d + s * s))


def _total_variance_jac(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """dw/dx (rows × points × 5) for each row ``x = (v, b, ρ, m, σ)``."""
    v, b, rho, m, s = _columns(x)
    q = np.sqrt(1.0 - rho * rho)
    d = k - m
    r = np.sqrt(d * d + s * s)
    jac = np.empty((*k.shape, 5))
    jac[..., 0] = 1.0
    jac[..., 1] = rho * d + r - s * q
    jac[..., 2] = b * (d + s * rho / q)
    jac[..., 3] = -b * (rho + d / r)
    jac[..., 4] = b * (s / r - q)
    return jac


def _levenberg_marquardt(fun, u0: np.ndarray, max_nfev: int = MAX_EVALUATIONS):
    """Minimise ``½‖r(u)‖²`` for each row of ``u0`` independently; (u, converged per row).

    ``fun(u, rows, need_jac)`` gives the residuals ``r`` (rows × m) of the rows
    ``rows`` and, when ``need_jac``, their Jacobian (rows × m × p): ``(r, J)``.
    Marquardt's method (Marquardt 1963, "An algorithm for least-squares
    estimation of nonlinear parameters", SIAM J. Appl. Math. 11(2)): the step
    solves ``(JᵀJ + μ·diag(JᵀJ))·δ = −Jᵀr``; an accepted step scales ``μ`` by
    ``max(1/3, 1 − (2ρ − 1)³)`` (ρ the actual over the predicted reduction), a
    rejected one by 2, 4, 8, … (Nielsen 1999, "Damping parameter in
    Marquardt's method", IMM-REP-1999-05, DTU). A row stops, converged, when an
    accepted step's actual and predicted reductions are both below ``FTOL``
    of the cost (MINPACK's test, Moré 1978), when the step is below 1e-10 of
    ``‖u‖``, when the gradient is orthogonal to the residuals to 1e-10, or at
    a zero cost; not converged after ``max_nfev`` evaluations. The Jacobian is
    evaluated with every trial (a step is accepted far more often than not).
    """
    u = np.array(u0, dtype=float)
    B, p = u.shape
    r, J = fun(u, np.arange(B), True)
    cost = 0.5 * (r * r).sum(axis=1)
    mu = np.full(B, 1e-3)
    nu = np.full(B, 2.0)
    nfev = np.ones(B, dtype=int)
    active = np.isfinite(cost)
    converged = np.zeros(B, dtype=bool)
    eye = np.eye(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        while active.any():
            rows = np.flatnonzero(active)
            Jr, c0 = J[rows], cost[rows]
            Jt = Jr.transpose(0, 2, 1)
            A = Jt @ Jr
            g = (Jt @ r[rows][:, :, None])[:, :, 0]
            diag = A[:, np.arange(p), np.arange(p)]
            cosine = np.max(np.abs(g) / np.sqrt(diag * (2.0 * c0[:, None]) + 1e-300), axis=1)
            flat = (c0 == 0) | (cosine <= 1e-10)
            scale = np.maximum(diag, 1e-12 * diag.max(axis=1, keepdims=True) + 1e-300)
            delta = np.linalg.solve(A + (mu[rows, None] * scale)[:, :, None] * eye, -g[..., None])
            trial = u[rows] + delta[..., 0]
            r_try, J_try = fun(trial, rows, True)
            nfev[rows] += 1
            cost_try = 0.5 * (r_try * r_try).sum(axis=1)
            predicted = -((g + 0.5 * (A @ delta)[..., 0]) * delta[..., 0]).sum(axis=1)
            actual = c0 - cost_try
            ok = np.isfinite(cost_try) & (actual > 0) & ~flat
            ratio = np.where(predicted > 0, actual / predicted, 0.0)
            small = (np.abs(actual) <= FTOL * c0) & (predicted <= FTOL * c0)
            step = (delta[..., 0] ** 2).sum(axis=1)
            tiny_step = step <= 1e-20 * (np.sqrt((u[rows] ** 2).sum(axis=1)) + 1e-10) ** 2
            acc, rej = rows[ok], rows[~ok]
            u[acc], r[acc], J[acc], cost[acc] = trial[ok], r_try[ok], J_try[ok], cost_try[ok]
            mu[acc] *= np.maximum(1.0 / 3.0, 1.0 - (2.0 * ratio[ok] - 1.0) ** 3)
            nu[acc] = 2.0
            mu[rej] *= nu[rej]
            nu[rej] *= 2.0
            done = flat | tiny_step | (ok & small) | (cost[rows] == 0)
            converged[rows[done]] = True
            active[rows[done | (nfev[rows] >= max_nfev)]] = False
    return u, converged


def _forward_differences(residuals):
    """``fun(u, rows, need_jac)`` for :func:`_levenberg_marquardt` from a function of
    residuals alone: the Jacobian by forward differences, step ``sqrt(eps)·max(|u|, 1)``."""

    def fun(u: np.ndarray, rows, need_jac: bool):
        base = residuals(u, rows)
        if not need_jac:
            return base, None
        out = np.empty((*base.shape, u.shape[1]))
        for i in range(u.shape[1]):
            h = np.sqrt(np.finfo(float).eps) * np.maximum(np.abs(u[:, i]), 1.0)
            bumped = u.copy()
            bumped[:, i] += h
            out[..., i] = (residuals(bumped, rows) - base) / h[:, None]
        return base, out

    return fun


def _initial_guess(k, iv, wt, T, box: _Box) -> np.ndarray:
    """The best quasi-explicit candidate ``(v, b, ρ, m, σ)`` of each expiry (see
    :func:`fit_svi`); ``k``, ``iv``, ``wt`` are (expiries × points), padding weighted 0.

    For fixed ``(m, σ)``, weighted linear least squares on total variance
    gives ``(a, b, ρ)``; a total-variance error ``δw`` is a vol error
    ``δw/(2·T·iv)`` to first order, so the weights are ``weight/(2·T·iv)²``
    and the linear fit approximates the vol fit. The best ``(m, σ)`` of a 7×7
    grid (``m`` across the fitted strikes, ``σ`` from 0.005 to 1 in log
    scale) is refined on three 5×5 grids, each half as wide as the last,
    around the best so far, judged by the weighted vol error itself.
    """
    B = k.shape[0]
    Tc = T[:, None]
    w_mkt = iv * iv * Tc
    lin_wt = wt / (2.0 * Tc * iv) ** 2
    w_min = np.where(wt > 0, w_mkt, np.inf).min(axis=1)
    k_lo = np.where(wt > 0, k, np.inf).min(axis=1)
    k_hi = np.where(wt > 0, k, -np.inf).max(axis=1)
    m_grid = k_lo[:, None] + (k_hi - k_lo)[:, None] * np.linspace(0.0, 1.0, 7)
    log_s = np.broadcast_to(np.linspace(np.log(0.005), np.log(1.0), 7), (B, 7))
    dm, ds = 0.25 * (k_hi - k_lo), 0.25 * (np.log(1.0) - np.log(0.005))
    best, best_cost = np.zeros((B, 5)), np.full(B, np.inf)
    every = np.arange(B)
    for _ in range(GRID_ROUNDS):
        m = np.repeat(m_grid, log_s.shape[1], axis=1)
        s = np.exp(np.tile(log_s, (1, m_grid.shape[1])))
        cand, cost = _quasi_explicit(k, iv, w_mkt, wt, lin_wt, Tc, m, s, w_min)
        i = np.nanargmin(cost, axis=1)
        better = cost[every, i] < best_cost
        best = np.where(better[:, None], cand[every, i], best)
        best_cost = np.where(better, cost[every, i], best_cost)
        m_grid = best[:, 3:4] + dm[:, None] * np.linspace(-1.0, 1.0, 5)
        log_s = np.log(best[:, 4:5]) + ds * np.linspace(-1.0, 1.0, 5)
        dm, ds = 0.5 * dm, 0.5 * ds
    lo = box.lo.copy()
    lo[:, 4] = np.exp(lo[:, 4])
    hi = box.hi.copy()
    hi[:, 0], hi[:, 4] = np.inf, np.exp(hi[:, 4])
    return np.clip(best, lo, hi)


def _quasi_explicit(k, iv, w_mkt, wt, lin_wt, Tc, m, s, w_min) -> tuple[np.ndarray, np.ndarray]:
    """Candidates ``(v, b, ρ, m, σ)`` for each expiry's ``(m, σ)`` pairs (expiries × G) and
    their weighted vol cost.

    In ``y = (k − m)/σ``, ``w = a + d·y + c·sqrt(y² + 1)`` with ``d = b·ρ·σ``,
    ``c = b·σ``: the 3×3 normal equations are formed from weighted sums and
    solved for all candidates at once; the solution is then moved inside the
    bounds (``b`` in ``(0, 2]``, ``|ρ| ≤ 0.95``, ``v > 0``).
    """
    y = (k[:, None, :] - m[:, :, None]) / s[:, :, None]  # (B, G, n)
    r = np.sqrt(y * y + 1.0)
    lw = lin_wt[:, None, :]
    wy, wr = y * lw, r * lw
    s1 = lin_wt.sum(axis=1)[:, None]
    sy, sr = wy.sum(axis=2), wr.sum(axis=2)
    syy = (wy * y).sum(axis=2)
    syr = (wy * r).sum(axis=2)
    srr = syy + s1
    normal = np.empty((*sy.shape, 3, 3))
    normal[..., 0, 0] = s1
    normal[..., 0, 1] = normal[..., 1, 0] = sy
    normal[..., 0, 2] = normal[..., 2, 0] = sr
    normal[..., 1, 1] = syy
    normal[..., 1, 2] = normal[..., 2, 1] = syr
    normal[..., 2, 2] = srr
    normal += 1e-12 * (s1 + syy + srr)[..., None, None] * np.eye(3)
    wm = w_mkt[:, None, :]
    level = np.broadcast_to((lin_wt * w_mkt).sum(axis=1)[:, None], sy.shape)
    rhs = np.stack([level, (wy * wm).sum(axis=2), (wr * wm).sum(axis=2)], axis=-1)
    a, d, c = np.moveaxis(np.linalg.solve(normal, rhs[..., None])[..., 0], -1, 0)
    b = np.clip(c / s, 1e-4, B_MAX)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.clip(np.where(c > 0, d / c, 0.0), -0.95, 0.95)
    q = np.sqrt(1.0 - rho * rho)
    v = np.maximum(a + b * s * q, 1e-4 * w_min[:, None])
    wf = (v - b * s * q)[..., None] + (b * s)[..., None] * (rho[..., None] * y + r)
    vol = np.sqrt(np.maximum(wf, _W_FLOOR) / Tc[:, :, None])
    cost = ((vol - iv[:, None, :]) ** 2 * wt[:, None, :]).sum(axis=2)
    return np.stack([v, b, rho, m, s], axis=-1), cost


def _repair(problem: _Problem, j: int, u: np.ndarray, k_check: np.ndarray):
    """Refit expiry ``j`` with penalty residuals ``P·max(G_MARGIN − g, 0)`` on ``k_check``,
    raising P tenfold (1 to 1e3) until the fitted slice has ``g ≥ 0`` there.
    Returns ``(x, converged)``."""
    box = problem.box
    row = np.array([j])
    u = u[None, :].copy()
    converged = True
    for weight in (1.0, 10.0, 100.0, 1000.0):

        def penalised(z, rows, weight=weight):
            g = durrleman_g(_params(box.x(z, row)[0]), k_check)
            deficit = np.maximum(G_MARGIN - np.where(np.isfinite(g), g, -1e6), 0.0)
            fit = problem.residuals(z, row)[0]
            return np.concatenate([fit, weight * deficit[None, :]], axis=1)

        u, conv = _levenberg_marquardt(_forward_differences(penalised), u)
        converged = bool(conv[0])
        if np.min(durrleman_g(_params(box.x(u, row)[0]), k_check)) >= 0:
            break
    return box.x(u, row)[0], converged


def _result(x, k, iv, T, k_check, *, repaired: bool, converged: bool) -> SviFit:
    params = _params(x)
    err = svi_vol(params, k, T) - iv
    min_g = float(np.min(durrleman_g(params, k_check)))
    return SviFit(
        params=params,
        T=float(T),
        n_points=int(k.size),
        rms_vol_points=float(100.0 * np.sqrt(np.mean(err * err))),
        max_error_vol_points=float(100.0 * np.max(np.abs(err))),
        butterfly_free=min_g >= 0.0,
        min_g=min_g,
        k_min=float(k.min()),
        k_max=float(k.max()),
        repaired=repaired,
        converged=bool(converged),
    )


# --------------------------------------------------------------------- in time


def _stack(slices) -> SviParams:
    """One SviParams of arrays from a sequence of slices."""
    return SviParams(
        *(np.array([getattr(p, f) for p in slices], dtype=float) for f in SviParams.__annotations__)
    )


def interpolate_total_variance(times, slices, k, T) -> np.ndarray:
    """Total variance at log-moneyness ``k`` and ``T`` years from SVI slices at ``times``.

    ``times`` ascending (years), ``slices`` their :class:`SviParams`; ``k``
    and ``T`` broadcast. The rules:

    - at a slice's ``T``: that slice;
    - between two slices ``T₁ < T < T₂``: linear in ``T`` at fixed ``k``,
      ``w = w₁(k) + (T − T₁)/(T₂ − T₁)·(w₂(k) − w₁(k))``;
    - before the first slice or after the last: the nearest slice's implied
      vol held flat in ``T`` at fixed ``k``, ``w = wᵢ(k)·T/Tᵢ``.

    ``k`` is log-moneyness against the forward *of the time asked for*: with
    proportional dividends this is the variable in which the absence of
    calendar-spread arbitrage reads ``∂w/∂T ≥ 0`` at fixed ``k`` (Gatheral &
    Jacquier 2014, Lemma 2.1; Gatheral 2006, "The Volatility Surface", ch. 3).
    The interpolation keeps that property only where the slices themselves
    do not cross (``w₂(k) ≥ w₁(k)``: see :func:`calendar_violations`); and
    a blend of two butterfly-free slices need not be butterfly-free.
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size == 0 or len(slices) != times.size:
        raise ValueError("need one SVI slice per time, at least one")
    if np.any(np.diff(times) < 0) or times[0] <= 0:
        raise ValueError("times must be positive and ascending")
    k, T = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(T, dtype=float))
    p = _stack(slices)
    n = times.size
    above = np.searchsorted(times, T, side="right")
    lo = np.clip(above - 1, 0, n - 1)
    hi = np.clip(above, 0, n - 1)
    w_lo = svi_total_variance(SviParams(p.a[lo], p.b[lo], p.rho[lo], p.m[lo], p.sigma[lo]), k)
    w_hi = svi_total_variance(SviParams(p.a[hi], p.b[hi], p.rho[hi], p.m[hi], p.sigma[hi]), k)
    gap = times[hi] - times[lo]
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(gap > 0, (T - times[lo]) / np.where(gap > 0, gap, 1.0), 0.0)
    w = w_lo + theta * (w_hi - w_lo)
    before = times[0] > T
    after = times[-1] < T
    w = np.where(before, w_lo * T / times[0], w)
    return np.where(after, w_lo * T / times[-1], w)


def interpolate_vol(times, slices, k, T) -> np.ndarray:
    """Implied vol (decimal) ``sqrt(w/T)`` of :func:`interpolate_total_variance`; NaN at T ≤ 0."""
    w = interpolate_total_variance(times, slices, k, T)
    T = np.asarray(T, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((T > 0) & (w >= 0), np.sqrt(w / np.where(T > 0, T, 1.0)), np.nan)


class CalendarViolation(NamedTuple):
    """Slice ``later`` has less total variance than slice ``earlier`` at ``k`` by ``shortfall``."""

    earlier: int
    later: int
    k: float
    shortfall: float  # w_earlier(k) − w_later(k) > 0, years·vol²


def calendar_violations(times, slices, k) -> tuple[CalendarViolation, ...]:
    """Adjacent slices whose total variance decreases in T somewhere on ``k`` (calendar
    arbitrage at fixed log-moneyness, Gatheral & Jacquier 2014, Lemma 2.1); the worst
    point of each such pair."""
    k = np.asarray(k, dtype=float).ravel()
    order = np.argsort(np.asarray(times, dtype=float), kind="stable")
    found = []
    for i, j in zip(order[:-1], order[1:], strict=True):
        diff = svi_total_variance(slices[i], k) - svi_total_variance(slices[j], k)
        worst = int(np.argmax(diff))
        if diff[worst] > 0:
            found.append(CalendarViolation(int(i), int(j), float(k[worst]), float(diff[worst])))
    return tuple(found)
