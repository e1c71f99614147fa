//! The partner's view: its own offers ([`offers`]: `/offers`, accept, decline with a reason), the
//! cases it serves ([`served`]: `/served`, record a service delivered and a contact attempt) and its
//! own services' capacity ([`capacity`]: `/capacity`). Coded facts only, never a name.
//!
//! Only a partner user reaches these pages. Anyone else, and any record that is not the partner's
//! own (another partner's offer, case or service, an unknown id, an id that is not even well
//! formed), gets the one "not found" page: same status, same body. The services decide what is the
//! partner's (a partner token; their NOT_FOUND and PERMISSION_DENIED both become "not found").

pub mod capacity;
pub mod offers;
pub mod served;

use std::str::FromStr;

use wf_auth::Role;
use wf_types::{FieldViolation, PartnerId};

use super::PageError;
use super::layout::sentence;
use crate::app::SignedIn;

/// The organization the signed-in partner user acts for. Staff have their own screens for the
/// same records (the referral queue and case pages), so for them these addresses do not exist.
pub(crate) fn acting_partner(who: &SignedIn) -> Result<PartnerId, PageError> {
    match (who.role, &who.partner_id) {
        (Role::Partner, Some(partner)) => Ok(partner.clone()),
        _ => Err(PageError::NotFound),
    }
}

/// A record id from the address: one that is not well formed is not found, like an unknown one.
pub(crate) fn path_id<T: FromStr>(raw: &str) -> Result<T, PageError> {
    raw.parse().map_err(|_| PageError::NotFound)
}

/// One field of a form: the services' name for it, the form's (its input's id), and its label.
pub(crate) struct FormField<'a> {
    pub upstream: &'a str,
    pub form: &'a str,
    pub label: &'a str,
}

/// The services' field violations as the form shows them: each on the form's field (so the error
/// summary links to the input) as a sentence naming it. One the form has no field for is shown on
/// `fields[0]`, its message kept.
pub(crate) fn on_form(violations: Vec<FieldViolation>, fields: &[FormField<'_>]) -> Vec<FieldViolation> {
    violations
        .into_iter()
        .map(|violation| match fields.iter().find(|field| field.upstream == violation.field) {
            Some(field) => FieldViolation::new(field.form, sentence(field.label, &violation.description)),
            None => {
                let first = fields.first().map_or("request", |field| field.form);
                FieldViolation::new(first, format!("{}: {}", violation.field, violation.description))
            }
        })
        .collect()
}

/// A confirmation the page shows after a form's redirect (`?done=…`), chosen from a fixed list so
/// the address cannot make the page say anything else.
pub(crate) fn confirmation(done: Option<&str>, known: &[(&str, &'static str)]) -> Option<&'static str> {
    let done = done?;
    known.iter().find(|(code, _)| *code == done).map(|(_, message)| *message)
}
