//! One way to page a list (in wf-types so pure domain code pages too) (svix's `PaginationLimit` shape): `page_size` 0 asks for the default,
//! a negative size is refused, a size above the maximum is capped (or refused where the contract
//! says so); a page token is the key of the last item of the previous page; one extra item is
//! fetched to learn whether another page follows.

use std::str::FromStr;

use crate::FieldViolation;

/// The page sizes one list accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimits {
    pub default: usize,
    pub max: usize,
}

impl PageLimits {
    pub const fn new(default: usize, max: usize) -> Self {
        Self { default, max }
    }

    /// 0 means the default; above the maximum is capped; negative is refused (and the default used).
    pub fn size(&self, requested: i32, violations: &mut Vec<FieldViolation>) -> usize {
        match usize::try_from(requested) {
            Ok(0) => self.default,
            Ok(size) => size.min(self.max),
            Err(_) => {
                violations.push(self.violation(format!("{requested} is negative")));
                self.default
            }
        }
    }

    /// As [`PageLimits::size`], but a size above the maximum is refused rather than capped.
    pub fn size_within(&self, requested: i32, violations: &mut Vec<FieldViolation>) -> usize {
        match usize::try_from(requested) {
            Ok(size) if size > self.max => {
                violations.push(self.violation(format!("{requested} is out of range")));
                self.max
            }
            _ => self.size(requested, violations),
        }
    }

    fn violation(&self, what: String) -> FieldViolation {
        FieldViolation::new("page_size", format!("{what}; allowed 0 (default {}) to {}", self.default, self.max))
    }
}

/// The key a page token carries (the last id of the previous page), or `None` for the first page.
pub fn page_token<Key: FromStr>(token: &str, violations: &mut Vec<FieldViolation>) -> Option<Key> {
    if token.is_empty() {
        return None;
    }
    match token.parse() {
        Ok(key) => Some(key),
        Err(_) => {
            violations.push(FieldViolation::new("page_token", "is not a token returned by this list"));
            None
        }
    }
}

/// Trims the one extra item fetched to detect a next page, and returns that page's token (empty
/// when this is the last page).
pub fn next_page<T>(items: &mut Vec<T>, page_size: usize, key: impl Fn(&T) -> String) -> String {
    if items.len() > page_size {
        items.truncate(page_size);
        items.last().map(key).unwrap_or_default()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: PageLimits = PageLimits::new(50, 200);

    #[test]
    fn sizes_default_cap_and_refuse_negative() {
        let mut violations = Vec::new();
        assert_eq!(LIMITS.size(0, &mut violations), 50);
        assert_eq!(LIMITS.size(10_000, &mut violations), 200);
        assert_eq!(LIMITS.size(7, &mut violations), 7);
        assert!(violations.is_empty());
        assert_eq!(LIMITS.size(-1, &mut violations), 50);
        assert_eq!(violations[0].field, "page_size");
        assert_eq!(violations[0].description, "-1 is negative; allowed 0 (default 50) to 200");
    }

    #[test]
    fn strict_sizes_refuse_above_the_maximum() {
        let mut violations = Vec::new();
        assert_eq!(LIMITS.size_within(200, &mut violations), 200);
        assert!(violations.is_empty());
        LIMITS.size_within(201, &mut violations);
        assert_eq!(violations[0].description, "201 is out of range; allowed 0 (default 50) to 200");
    }

    #[test]
    fn tokens_parse_as_the_key_or_are_named() {
        let mut violations = Vec::new();
        assert_eq!(page_token::<crate::CaseId>("", &mut violations), None);
        let id = crate::CaseId::generate();
        assert_eq!(page_token::<crate::CaseId>(id.as_str(), &mut violations), Some(id));
        assert!(violations.is_empty());
        assert_eq!(page_token::<crate::CaseId>("ref_1", &mut violations), None);
        assert_eq!(violations[0].field, "page_token");
    }

    #[test]
    fn the_extra_item_becomes_the_next_token() {
        let mut items = vec![1, 2, 3];
        assert_eq!(next_page(&mut items, 2, |i| i.to_string()), "2");
        assert_eq!(items, vec![1, 2]);
        let mut items = vec![1, 2];
        assert_eq!(next_page(&mut items, 2, |i| i.to_string()), "");
        assert_eq!(items, vec![1, 2]);
    }
}
