//! Input checks shared by the estimators, so every one reports bad input the same way.

use crate::StatsError;

pub(crate) fn same_length(name: &'static str, expected: usize, actual: usize) -> Result<(), StatsError> {
    if expected == actual { Ok(()) } else { Err(StatsError::Length { name, expected, actual }) }
}

/// Survival times: finite and not negative.
pub(crate) fn times(time: &[f64]) -> Result<(), StatsError> {
    for (row, &t) in time.iter().enumerate() {
        if !t.is_finite() || t < 0.0 {
            return Err(StatsError::Value { name: "time", row, value: t, allowed: "times must be finite and ≥ 0" });
        }
    }
    Ok(())
}

/// Case weights: finite and positive; None means every weight is 1.
pub(crate) fn weights(weights: Option<&[f64]>, n: usize) -> Result<Vec<f64>, StatsError> {
    match weights {
        None => Ok(vec![1.0; n]),
        Some(w) => {
            same_length("weights", n, w.len())?;
            for (row, &v) in w.iter().enumerate() {
                if !v.is_finite() || v <= 0.0 {
                    return Err(StatsError::Value {
                        name: "weights",
                        row,
                        value: v,
                        allowed: "weights must be finite and > 0",
                    });
                }
            }
            Ok(w.to_vec())
        }
    }
}

/// Covariates: an n × p row-major block of finite numbers.
pub(crate) fn covariates(x: &[f64], n: usize, p: usize) -> Result<(), StatsError> {
    same_length("covariates", n * p, x.len())?;
    for (i, &v) in x.iter().enumerate() {
        if !v.is_finite() {
            return Err(StatsError::Value {
                name: "covariates",
                row: i / p.max(1),
                value: v,
                allowed: "covariate values must be finite numbers",
            });
        }
    }
    Ok(())
}
