//! The audit service.
