//! Dense symmetric positive-definite algebra for the small matrices the models
//! need (p × p with p the number of covariates). Cholesky is the right tool:
//! information matrices are symmetric and, when the model is identifiable,
//! positive definite; a failed factorization is how collinearity shows up.

/// A square matrix stored row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct SquareMatrix {
    n: usize,
    data: Vec<f64>,
}

impl SquareMatrix {
    pub fn zeros(n: usize) -> Self {
        Self { n, data: vec![0.0; n * n] }
    }

    pub fn from_rows(n: usize, data: Vec<f64>) -> Self {
        assert_eq!(data.len(), n * n, "a {n}×{n} matrix needs {} values", n * n);
        Self { n, data }
    }

    pub fn dim(&self) -> usize {
        self.n
    }

    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.n + j]
    }

    pub fn set(&mut self, i: usize, j: usize, value: f64) {
        self.data[i * self.n + j] = value;
    }

    pub fn add(&mut self, i: usize, j: usize, value: f64) {
        self.data[i * self.n + j] += value;
    }

    pub fn diagonal(&self) -> Vec<f64> {
        (0..self.n).map(|i| self.get(i, i)).collect()
    }

    pub fn mul_vec(&self, v: &[f64]) -> Vec<f64> {
        (0..self.n).map(|i| (0..self.n).map(|j| self.get(i, j) * v[j]).sum()).collect()
    }

    pub fn mul(&self, other: &SquareMatrix) -> SquareMatrix {
        let n = self.n;
        let mut out = SquareMatrix::zeros(n);
        for i in 0..n {
            for k in 0..n {
                let a = self.get(i, k);
                for j in 0..n {
                    out.data[i * n + j] += a * other.get(k, j);
                }
            }
        }
        out
    }

    /// Copies the upper triangle onto the lower (accumulators fill only one half).
    pub fn symmetrize_from_upper(&mut self) {
        for i in 0..self.n {
            for j in 0..i {
                self.data[i * self.n + j] = self.data[j * self.n + i];
            }
        }
    }

    /// Lower-triangular L with A = L Lᵀ, or None when A is not positive definite.
    pub fn cholesky(&self) -> Option<Cholesky> {
        let n = self.n;
        let mut l = vec![0.0; n * n];
        // Scale-aware threshold: a pivot this small relative to the diagonal means
        // the columns are (numerically) linearly dependent.
        let scale = self.diagonal().iter().fold(0.0f64, |m, v| m.max(v.abs())).max(f64::MIN_POSITIVE);
        for j in 0..n {
            let mut d = self.get(j, j);
            for k in 0..j {
                d -= l[j * n + k] * l[j * n + k];
            }
            if d.is_nan() || d <= scale * 1e-13 || !d.is_finite() {
                return None;
            }
            let d = d.sqrt();
            l[j * n + j] = d;
            for i in j + 1..n {
                let mut s = self.get(i, j);
                for k in 0..j {
                    s -= l[i * n + k] * l[j * n + k];
                }
                l[i * n + j] = s / d;
            }
        }
        Some(Cholesky { n, l })
    }
}

/// A Cholesky factorization, used to solve and invert.
#[derive(Debug, Clone)]
pub struct Cholesky {
    n: usize,
    l: Vec<f64>,
}

impl Cholesky {
    /// Solves A x = b.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let n = self.n;
        let mut y = b.to_vec();
        for i in 0..n {
            for k in 0..i {
                y[i] -= self.l[i * n + k] * y[k];
            }
            y[i] /= self.l[i * n + i];
        }
        for i in (0..n).rev() {
            for k in i + 1..n {
                y[i] -= self.l[k * n + i] * y[k];
            }
            y[i] /= self.l[i * n + i];
        }
        y
    }

    /// A⁻¹, column by column.
    pub fn inverse(&self) -> SquareMatrix {
        let n = self.n;
        let mut inv = SquareMatrix::zeros(n);
        let mut e = vec![0.0; n];
        for j in 0..n {
            e.iter_mut().for_each(|v| *v = 0.0);
            e[j] = 1.0;
            let col = self.solve(&e);
            for (i, v) in col.into_iter().enumerate() {
                inv.set(i, j, v);
            }
        }
        inv
    }
}

/// xᵀ A x.
pub fn quadratic_form(a: &SquareMatrix, x: &[f64]) -> f64 {
    x.iter().zip(a.mul_vec(x)).map(|(u, v)| u * v).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_and_inverts_a_positive_definite_matrix() {
        let a = SquareMatrix::from_rows(3, vec![4.0, 12.0, -16.0, 12.0, 37.0, -43.0, -16.0, -43.0, 98.0]);
        let chol = a.cholesky().expect("positive definite");
        let x = chol.solve(&[1.0, 2.0, 3.0]);
        let back = a.mul_vec(&x);
        for (b, want) in back.iter().zip([1.0, 2.0, 3.0]) {
            assert!((b - want).abs() < 1e-10, "{b} vs {want}");
        }
        let identity = a.mul(&chol.inverse());
        for i in 0..3 {
            for j in 0..3 {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((identity.get(i, j) - want).abs() < 1e-10);
            }
        }
    }

    #[test]
    fn rejects_a_singular_matrix() {
        let a = SquareMatrix::from_rows(2, vec![1.0, 2.0, 2.0, 4.0]);
        assert!(a.cholesky().is_none());
    }
}
