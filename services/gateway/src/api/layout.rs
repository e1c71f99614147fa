//! What every page's frame shows (`templates/base.html`): the title, who is signed in with their role
//! and organization, the sign-out form, the CSRF token for forms and htmx requests, the static files
//! and the idle-warning timings. Screens build one with [`Layout::for_person`].

use wf_types::FieldViolation;

use super::assets::{self, AssetUrls};
use crate::app::{Resolved, SignedIn};
use crate::domain::account::role_label;
use crate::domain::session::WARN_BEFORE_SECS;

/// The signed-in person as the header shows them.
#[derive(Debug, Clone)]
pub struct Person {
    pub username: String,
    pub role: &'static str,
    pub organization: String,
    /// The navigation offers the referral queue (staff who read referrals).
    pub sees_referrals: bool,
    /// The navigation offers the partner's view (offers, cases served, capacity).
    pub partner_view: bool,
    /// The navigation offers "My caseload" (staff who read and work cases).
    pub sees_caseload: bool,
}

impl Person {
    pub fn of(who: &SignedIn) -> Self {
        Person {
            username: who.username.clone(),
            role: role_label(who.role),
            organization: organization(who),
            sees_referrals: crate::domain::queue::shows_queue(who.role),
            partner_view: who.is_partner(),
            sees_caseload: crate::domain::cases::reads_cases(who.role),
        }
    }
}

/// The organization a person acts for, as pages name it.
pub fn organization(who: &SignedIn) -> String {
    match &who.partner_id {
        Some(partner) => format!("Partner organization {partner}"),
        None => "Wayfinder program staff".to_owned(),
    }
}

#[derive(Debug, Clone)]
pub struct Layout {
    /// The page's own title; the tab shows "<title> – Wayfinder".
    pub title: String,
    pub person: Option<Person>,
    /// The session's CSRF token (empty without a session): a hidden field in every form, and the
    /// `X-CSRF-Token` header of every htmx request (`hx-headers` on `<body>`).
    pub csrf_token: String,
    pub assets: &'static AssetUrls,
    /// Seconds until the session ends without activity (0: no session), for the idle warning.
    pub seconds_left: i64,
    pub warn_before: i64,
}

impl Layout {
    /// The frame of a page for a signed-in person.
    pub fn for_person(who: &SignedIn, title: impl Into<String>) -> Self {
        Layout {
            title: title.into(),
            person: Some(Person::of(who)),
            csrf_token: who.csrf_token.clone(),
            assets: assets::urls(),
            seconds_left: who.seconds_left,
            warn_before: WARN_BEFORE_SECS,
        }
    }

    /// The frame of a page for someone not signed in (`csrf_token`: their visitor session's).
    pub fn for_visitor(csrf_token: Option<&str>, title: impl Into<String>) -> Self {
        Layout {
            title: title.into(),
            person: None,
            csrf_token: csrf_token.unwrap_or_default().to_owned(),
            assets: assets::urls(),
            seconds_left: 0,
            warn_before: WARN_BEFORE_SECS,
        }
    }

    /// The frame for whatever session a request has.
    pub fn for_resolved(resolved: &Resolved, title: impl Into<String>) -> Self {
        match resolved {
            Resolved::Person(who) => Self::for_person(who, title),
            other => Self::for_visitor(other.csrf_token(), title),
        }
    }
}

/// Field errors of a form: shown in the error summary at the top and beside each field
/// (`aria-describedby`), as GOV.UK's pattern does.
#[derive(Debug, Clone, Default)]
pub struct FormErrors {
    items: Vec<FieldViolation>,
}

impl FormErrors {
    pub fn new(items: Vec<FieldViolation>) -> Self {
        Self { items }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The message for `field`, if it has one.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.items.iter().find(|item| item.field == field).map(|item| item.description.as_str())
    }

    pub fn all(&self) -> &[FieldViolation] {
        &self.items
    }
}

/// A field's message as a sentence (domain messages read "must be …" after the field's name).
pub fn sentence(label: &str, description: &str) -> String {
    let first_upper = description.chars().next().is_some_and(char::is_uppercase);
    if first_upper { description.to_owned() } else { format!("{label} {description}") }
}
