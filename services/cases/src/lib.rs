//! The cases service.
