//! The gateway's rules, as plain functions over plain data (no I/O): who an account may be
//! ([`account`]), which passwords are accepted ([`password`]), one-time codes ([`totp`]), when a
//! session has ended ([`session`]), when sign-in attempts are throttled ([`throttle`]), and which
//! requests may change state ([`request`]: the Origin and CSRF rules), the referral queue's filters,
//! order, deadlines and routing explanation ([`queue`]), the case page's stepper, follow-up windows,
//! next due item and timeline and the caseload's order ([`cases`]), what an OpenID Connect
//! sign-in must show ([`oidc`]), and a referral's consent releases and mandated-report clock
//! ([`records`]).

pub mod account;
pub mod cases;
pub mod oidc;
pub mod partner;
pub mod password;
pub mod queue;
pub mod records;
pub mod request;
pub mod session;
pub mod throttle;
pub mod totp;
