//! Wrappers whose `Debug` and `Display` never show the value, so a secret or a
//! piece of personal data cannot reach a log line by accident.

use std::fmt;

/// A credential or key: connection strings with passwords, signing keys, tokens.
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself; the call site is where a reviewer looks for leaks.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Personal data about a youth (names, dates of birth, contact details, notes).
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Pii<T>(T);

impl<T> Pii<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Pii<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pii([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("postgres://user:hunter2@db/x".to_owned());
        assert!(!format!("{secret:?}").contains("hunter2"));
        let name = Pii::new("Demo Youth-Alpha".to_owned());
        assert!(!format!("{name:?}").contains("Demo"));
        assert_eq!(name.expose(), "Demo Youth-Alpha");
    }
}
