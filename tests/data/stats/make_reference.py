#!/usr/bin/env python3
"""Reference outputs for crates/wf-stats, made with established packages.

Run outside the project's tests (they only read what this writes):

    pip install lifelines statsmodels
    python3 tests/data/stats/make_reference.py

Writes, next to this script, the generated inputs (<name>.csv) and what
lifelines / statsmodels compute on them (<name>.json). The data are synthetic,
drawn with fixed seeds; nothing here is about real people.

Conventions matched on the Rust side:
- Kaplan-Meier: lifelines KaplanMeierFitter, log(-log) ("exponential Greenwood")
  interval; the Greenwood standard error S*sqrt(sum d/(n(n-d))) is computed here
  from lifelines' event table (lifelines does not publish it).
- Log-rank: lifelines multivariate_logrank_test.
- Cox, Efron ties: lifelines CoxPHFitter (its only tie method); robust=True for
  the sandwich errors. lifelines' robust errors ignore ties, so the weighted,
  robust data set has no tied times. The score test is computed from
  statsmodels PHReg's score and Hessian at beta = 0 (lifelines does not publish it).
- Cox, Breslow ties: statsmodels PHReg(ties="breslow") (no case weights there).
- Logistic: statsmodels Logit; frequency weights via GLM(Binomial, freq_weights).
- Restricted mean survival time: the value from lifelines restricted_mean_survival_time
  (exact for a KaplanMeierFitter); its standard error from the Klein & Moeschberger
  formula computed here from lifelines' event table (lifelines' variance is that of
  min(T, tau), a different quantity).
- Cumulative incidence: lifelines AalenJohansenFitter (value, variance, log(-log)
  interval) on a data set without tied event times (lifelines jitters ties).
"""

import json
import os
import sys

import lifelines
import numpy as np
import pandas as pd
import statsmodels
import statsmodels.api as sm
from lifelines import AalenJohansenFitter, CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import restricted_mean_survival_time
from statsmodels.duration.hazard_regression import PHReg

HERE = os.path.dirname(os.path.abspath(__file__))
COVARIATES = ["x1", "x2", "x3"]
PRECISION = {"precision": 1e-12, "max_steps": 200}


def survival_data(seed, n, tie_scale, weighted):
    """Exponential times with planted effects, uniform censoring, three groups."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], size=n, p=[0.4, 0.35, 0.25])
    x1 = rng.normal(size=n)
    x2 = (rng.random(n) < 0.4).astype(float)
    x3 = rng.normal(loc=2.0, scale=1.5, size=n)
    shift = np.where(group == "b", -0.4, np.where(group == "c", 0.3, 0.0))
    rate = 0.05 * np.exp(0.5 * x1 - 0.7 * x2 + 0.2 * x3 + shift)
    event_time = rng.exponential(1.0 / rate)
    censor_time = rng.uniform(0, 60, size=n)
    time = np.minimum(event_time, censor_time)
    if tie_scale:
        time = np.ceil(time / tie_scale) * tie_scale  # whole days or weeks: many ties
    else:
        time = np.round(time, 6) + np.arange(n) * 1e-9  # distinct times
    event = (event_time <= censor_time).astype(int)
    df = pd.DataFrame({"time": time, "event": event, "group": group, "x1": x1, "x2": x2, "x3": x3})
    if weighted:
        df["w"] = np.round(rng.uniform(0.5, 3.0, size=n), 3)
    return df


def km_reference(df, weights=None):
    kmf = KaplanMeierFitter()
    kmf.fit(df["time"], df["event"], weights=weights)
    table = kmf.event_table
    table = table[table.index > 0] if (df["time"] > 0).all() else table
    n, d = table["at_risk"].values.astype(float), table["observed"].values.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n - d > 0, d / (n * (n - d)), 0.0)
    survival = kmf.survival_function_.loc[table.index].values[:, 0]
    ci = kmf.confidence_interval_.loc[table.index].values
    return {
        "time": table.index.tolist(),
        "at_risk": n.tolist(),
        "events": d.tolist(),
        "censored": table["censored"].values.astype(float).tolist(),
        "survival": survival.tolist(),
        "std_err": (survival * np.sqrt(np.cumsum(terms))).tolist(),
        "ci_lower": ci[:, 0].tolist(),
        "ci_upper": ci[:, 1].tolist(),
    }


def logrank_reference(df):
    result = multivariate_logrank_test(df["time"], df["group"], df["event"])
    return {"statistic": float(result.test_statistic), "df": int(result.degrees_of_freedom), "p_value": float(result.p_value)}


def phreg_score_test(df, ties):
    model = PHReg(df["time"].values, df[COVARIATES].values, status=df["event"].values, ties=ties)
    zero = np.zeros(len(COVARIATES))
    g = model.score(zero)
    return float(g @ np.linalg.solve(-model.hessian(zero), g))


def cox_lifelines(df, weighted, robust):
    cols = ["time", "event"] + COVARIATES + (["w"] if weighted else [])
    cph = CoxPHFitter()
    cph.fit(df[cols], duration_col="time", event_col="event", weights_col="w" if weighted else None,
            robust=robust, fit_options=PRECISION)
    beta = cph.params_.values
    se = cph.standard_errors_.values
    lr = cph.log_likelihood_ratio_test()
    out = {
        "ties": "efron",
        "robust": robust,
        "coef": beta.tolist(),
        "std_err": se.tolist(),
        "model_std_err": np.sqrt(np.diag(cph.variance_matrix_.values)).tolist(),
        "z": (beta / se).tolist(),
        "p_value": cph.summary["p"].values.tolist(),
        "ci_lower": cph.confidence_intervals_.values[:, 0].tolist(),
        "ci_upper": cph.confidence_intervals_.values[:, 1].tolist(),
        "log_likelihood": float(cph.log_likelihood_),
        "log_likelihood_null": float(cph.log_likelihood_ - lr.test_statistic / 2),
        "likelihood_ratio": float(lr.test_statistic),
        "likelihood_ratio_p": float(lr.p_value),
        "concordance": float(cph.concordance_index_),
    }
    if not robust:
        out["wald"] = float(beta @ np.linalg.solve(cph.variance_matrix_.values, beta))
        if not weighted:
            out["score"] = phreg_score_test(df, "efron")
    return out


def cox_breslow(df):
    model = PHReg(df["time"].values, df[COVARIATES].values, status=df["event"].values, ties="breslow")
    result = model.fit(gtol=1e-12)
    # Polish with Newton steps: statsmodels' optimizer stops on the gradient norm.
    beta = result.params
    for _ in range(5):
        beta = beta + np.linalg.solve(-model.hessian(beta), model.score(beta))
    cov = np.linalg.inv(-model.hessian(beta))
    null = model.loglike(np.zeros(len(COVARIATES)))
    ll = model.loglike(beta)
    return {
        "ties": "breslow",
        "robust": False,
        "coef": beta.tolist(),
        "std_err": np.sqrt(np.diag(cov)).tolist(),
        "log_likelihood_null": float(null),
        "log_likelihood": float(ll),
        "likelihood_ratio": float(2 * (ll - null)),
        "wald": float(beta @ np.linalg.solve(cov, beta)),
        "score": phreg_score_test(df, "breslow"),
    }


def rmst_reference(df, horizons):
    kmf = KaplanMeierFitter().fit(df["time"], df["event"])
    table = kmf.event_table
    table = table[table.index > 0]
    times = table.index.values.astype(float)
    out = []
    for tau in horizons:
        value = float(restricted_mean_survival_time(kmf, t=tau))
        # A_j = area under S from t_j to tau, for each event time t_j <= tau.
        var = 0.0
        for t, n, d in zip(times, table["at_risk"].values, table["observed"].values):
            if t > tau or d == 0 or n == d:
                continue
            grid = np.concatenate(([t], times[(times > t) & (times < tau)], [tau]))
            s = kmf.survival_function_at_times(grid[:-1]).values
            area = float(np.sum(s * np.diff(grid)))
            var += area**2 * d / (n * (n - d))
        out.append({"horizon": tau, "estimate": value, "std_err": float(np.sqrt(var))})
    return out


def competing_data(seed, n):
    """Three event kinds with cause-specific exponential hazards and uniform censoring; distinct times."""
    rng = np.random.default_rng(seed)
    rates = np.array([0.02, 0.012, 0.006])
    kind_times = rng.exponential(1.0 / rates, size=(n, 3))
    first = kind_times.min(axis=1)
    kind = kind_times.argmin(axis=1) + 1
    censor = rng.uniform(0, 90, size=n)
    time = np.round(np.minimum(first, censor), 6) + np.arange(n) * 1e-9
    outcome = np.where(first <= censor, kind, 0)
    return pd.DataFrame({"time": time, "outcome": outcome})


def cif_reference(df):
    out = {}
    for kind in (1, 2):
        ajf = AalenJohansenFitter(calculate_variance=True)
        ajf.fit(df["time"], df["outcome"], event_of_interest=kind)
        table = ajf.event_table
        table = table[table.index > 0]
        times = table.index
        ci = ajf.confidence_interval_.loc[times].values
        out[str(kind)] = {
            "time": times.tolist(),
            "at_risk": table["at_risk"].values.astype(float).tolist(),
            "incidence": ajf.cumulative_density_.loc[times].values[:, 0].tolist(),
            # lifelines leaves the variance undefined (NaN) where everyone left at risk has an
            # event (0/0 in the first term), and the interval while the incidence is 0: null in JSON.
            "std_err": [None if np.isnan(v) else float(v) for v in np.sqrt(ajf.variance_.loc[times].values)],
            "ci_lower": [None if np.isnan(v) else float(v) for v in np.minimum(ci[:, 0], ci[:, 1])],
            "ci_upper": [None if np.isnan(v) else float(v) for v in np.maximum(ci[:, 0], ci[:, 1])],
        }
    return out


def logistic_data(seed, n):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = (rng.random(n) < 0.5).astype(float)
    x3 = rng.uniform(-2, 2, size=n)
    eta = -0.4 + 0.8 * x1 - 0.6 * x2 + 0.3 * x3
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    w = rng.integers(1, 4, size=n).astype(float)
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "x3": x3, "w": w})


def logistic_reference(df):
    X = sm.add_constant(df[COVARIATES])
    fit = sm.Logit(df["y"], X).fit(method="newton", tol=1e-14, maxiter=100, disp=False)
    wfit = sm.GLM(df["y"], X, family=sm.families.Binomial(), freq_weights=df["w"]).fit(tol=1e-14, maxiter=100)
    return {
        "unweighted": {
            "coef": fit.params.values.tolist(),
            "std_err": fit.bse.values.tolist(),
            "p_value": fit.pvalues.values.tolist(),
            "log_likelihood": float(fit.llf),
            "log_likelihood_null": float(fit.llnull),
            "likelihood_ratio": float(fit.llr),
        },
        "weighted": {
            "coef": wfit.params.values.tolist(),
            "std_err": wfit.bse.values.tolist(),
            "log_likelihood": float(wfit.llf),
        },
    }


def write(name, df, reference):
    df.to_csv(os.path.join(HERE, f"{name}.csv"), index=False, float_format="%.17g")
    # Reload so the reference is computed on exactly the numbers the Rust tests parse.
    reference = reference(pd.read_csv(os.path.join(HERE, f"{name}.csv"), float_precision="round_trip"))
    reference["generated_by"] = {
        "script": "tests/data/stats/make_reference.py",
        "python": sys.version.split()[0],
        "lifelines": lifelines.__version__,
        "statsmodels": statsmodels.__version__,
        "numpy": np.__version__,
    }
    with open(os.path.join(HERE, f"{name}.json"), "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")
    print(f"wrote {name}.csv ({len(df)} rows) and {name}.json")


def main():
    write("cox_ties", survival_data(seed=20261, n=300, tie_scale=1.0, weighted=False), lambda df: {
        "km": km_reference(df),
        "logrank": logrank_reference(df),
        "cox_efron": cox_lifelines(df, weighted=False, robust=False),
        "cox_efron_robust": cox_lifelines(df, weighted=False, robust=True) | {"note": "lifelines ignores ties in robust errors; not compared"},
        "cox_breslow": cox_breslow(df),
        "rmst": rmst_reference(df, [10.0, 25.5, 50.0]),
    })
    write("cox_heavy_ties", survival_data(seed=20262, n=120, tie_scale=7.0, weighted=False), lambda df: {
        "km": km_reference(df),
        "logrank": logrank_reference(df),
        "cox_efron": cox_lifelines(df, weighted=False, robust=False),
        "cox_breslow": cox_breslow(df),
    })
    write("cox_weighted", survival_data(seed=20263, n=250, tie_scale=0.0, weighted=True), lambda df: {
        "km": km_reference(df),
        "logrank": logrank_reference(df),
        "cox_efron": cox_lifelines(df, weighted=True, robust=False),
        "cox_efron_robust": cox_lifelines(df, weighted=True, robust=True),
    })
    write("logistic", logistic_data(seed=20264, n=500), logistic_reference)
    write("competing", competing_data(seed=20265, n=200), cif_reference)


if __name__ == "__main__":
    main()
