//! One problem with one field of a request: the unit of every validation error, produced by
//! pure domain rules and turned into `INVALID_ARGUMENT` (or HTTP 400) at the edge.

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field, e.g. `referral.personal.date_of_birth.month`.
    pub field: String,
    /// What was wrong and what is allowed.
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self { field: field.into(), description: description.into() }
    }
}
