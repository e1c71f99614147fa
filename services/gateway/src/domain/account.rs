//! Accounts: who may hold one, how usernames are compared, and what the services are told about the
//! person (their role, their partner organization, and the subject their tokens carry).

use wf_auth::Role;
use wf_types::{AccountId, FieldViolation, PartnerId};

/// Usernames are 2 to 64 characters once normalised.
pub const USERNAME_MAX_CHARS: usize = 64;
const USERNAME_MIN_CHARS: usize = 2;
/// The subject the services see: 1 to 128 characters without spaces (the roster's `user_id` rule).
pub const USER_ID_MAX_CHARS: usize = 128;

/// The version of the confidentiality acknowledgment (`templates/acknowledge.html`). Raise it when the
/// text changes: everyone is then asked to accept the new text at their next sign-in.
pub const ACKNOWLEDGMENT_VERSION: i64 = 1;

/// An account as stored. Instants are microseconds since the Unix epoch on the service clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    /// Normalised ([`normalize_username`]).
    pub username: String,
    pub role: Role,
    /// Set exactly when `role` is [`Role::Partner`].
    pub partner_id: Option<PartnerId>,
    /// The `sub` of the tokens minted for this person; the roster's `user_id` names it.
    pub user_id: String,
    /// The argon2id PHC string; `None` for an account that signs in elsewhere (OpenID Connect, later).
    pub password_hash: Option<String>,
    /// The password was accepted only because a second factor is on (8 to 14 characters).
    pub password_needs_totp: bool,
    /// The TOTP secret, sealed with the field key ring (see `app::accounts`); `None` without TOTP.
    pub totp_sealed: Option<String>,
    /// An enrolment begun but not yet confirmed with a code.
    pub totp_pending_sealed: Option<String>,
    /// The last 30-second step a code was accepted for: no code of it or before is accepted again.
    pub totp_last_step: Option<i64>,
    pub disabled_at: Option<i64>,
    pub acknowledged_version: Option<i64>,
    pub acknowledged_at: Option<i64>,
    pub created_at: i64,
    pub changed_at: i64,
}

impl Account {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }

    pub fn has_totp(&self) -> bool {
        self.totp_sealed.is_some()
    }

    /// Whether the current confidentiality acknowledgment has been accepted.
    pub fn has_acknowledged(&self) -> bool {
        self.acknowledged_version.is_some_and(|version| version >= ACKNOWLEDGMENT_VERSION)
    }
}

/// The username as it is stored and compared: surrounding spaces removed, lowercased. `Err` names
/// what is wrong with it.
pub fn normalize_username(input: &str) -> Result<String, FieldViolation> {
    let username = input.trim().to_lowercase();
    let chars = username.chars().count();
    if chars == 0 {
        return Err(FieldViolation::new("username", "must be set"));
    }
    if !(USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS).contains(&chars) {
        return Err(FieldViolation::new(
            "username",
            format!("must be {USERNAME_MIN_CHARS} to {USERNAME_MAX_CHARS} characters (it has {chars})"),
        ));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '@');
    if !username.chars().all(allowed) {
        return Err(FieldViolation::new("username", "may hold only letters a to z, digits and the characters . _ - @"));
    }
    Ok(username)
}

/// The violations of a new account's role, partner and subject.
pub fn check_identity(role: Role, partner_id: Option<&PartnerId>, user_id: &str) -> Vec<FieldViolation> {
    let mut violations = Vec::new();
    match (role, partner_id) {
        (Role::Service, _) => violations.push(FieldViolation::new(
            "role",
            "service is not a person's role (services use service tokens); allowed: hotline, partner, \
             case_manager, supervisor, program_manager, evaluator, auditor, admin",
        )),
        (Role::Partner, None) => {
            violations.push(FieldViolation::new("partner_id", "must be set for role partner (org_…)"));
        }
        (role, Some(_)) if role != Role::Partner => {
            violations.push(FieldViolation::new("partner_id", format!("is only for role partner, not {role}")));
        }
        _ => {}
    }
    let chars = user_id.chars().count();
    if chars == 0 || chars > USER_ID_MAX_CHARS || user_id.chars().any(char::is_whitespace) {
        violations.push(FieldViolation::new(
            "user_id",
            format!("must be 1 to {USER_ID_MAX_CHARS} characters without spaces"),
        ));
    }
    violations
}

/// The role as the pages name it.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Hotline => "Hotline",
        Role::Partner => "Partner organization",
        Role::CaseManager => "Case manager",
        Role::Supervisor => "Supervisor",
        Role::ProgramManager => "Program manager",
        Role::Evaluator => "Evaluator",
        Role::Auditor => "Auditor",
        Role::Admin => "Administrator",
        Role::Service => "Service",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_trimmed_lowercased_and_limited() {
        assert_eq!(normalize_username("  MGarcia ").unwrap(), "mgarcia");
        assert_eq!(normalize_username("m.garcia@cast").unwrap(), "m.garcia@cast");
        assert_eq!(normalize_username("").unwrap_err().description, "must be set");
        assert!(normalize_username("a").unwrap_err().description.contains("2 to 64"));
        assert!(normalize_username("m garcia").unwrap_err().description.contains("only letters"));
        assert!(normalize_username(&"a".repeat(65)).is_err());
    }

    #[test]
    fn partners_need_a_partner_and_services_hold_no_account() {
        let org: PartnerId = "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".parse().unwrap();
        assert!(check_identity(Role::CaseManager, None, "u1").is_empty());
        assert!(check_identity(Role::Partner, Some(&org), "u1").is_empty());
        assert_eq!(check_identity(Role::Partner, None, "u1")[0].field, "partner_id");
        assert_eq!(check_identity(Role::Supervisor, Some(&org), "u1")[0].field, "partner_id");
        assert_eq!(check_identity(Role::Service, None, "u1")[0].field, "role");
        assert_eq!(check_identity(Role::Auditor, None, "has space")[0].field, "user_id");
        assert_eq!(check_identity(Role::Auditor, None, "")[0].field, "user_id");
    }
}
