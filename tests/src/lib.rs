//! Cross-service end-to-end, fault and load suites live in `tests/it`.
