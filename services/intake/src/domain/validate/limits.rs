//! Every list maximum of a referral, in one place. A longer list is refused with the field path and
//! the maximum (`has 11 entries; allowed at most 10`), never its entries. Lists of personal details
//! are short: a youth has a few names, numbers and guardians, and a long list is either a mistake or
//! an attempt to fill the vault. Coded lists allow more.

/// `referral.personal.aliases`: other names the youth is known by.
pub(crate) const ALIASES: usize = 10;
/// `referral.personal.phones` and each guardian's `phones`.
pub(crate) const PHONES: usize = 10;
/// `referral.personal.emails` and each guardian's `emails`.
pub(crate) const EMAILS: usize = 10;
/// `referral.personal.online_handles`.
pub(crate) const ONLINE_HANDLES: usize = 10;
/// `referral.personal.guardians`.
pub(crate) const GUARDIANS: usize = 10;
/// `referral.personal.safe_contact.safe_times`.
pub(crate) const SAFE_TIMES: usize = 10;
/// `referral.personal.safe_contact.never_say`.
pub(crate) const NEVER_SAY: usize = 20;
/// `referral.personal.safe_contact.safe_channels` (each channel at most once anyway).
pub(crate) const SAFE_CHANNELS: usize = 10;
/// Coded lists: `needs`, `screenings`, `arrests`, `system_involvement`, `income.sources`,
/// `requested_partner_service_ids`.
pub(crate) const CODED: usize = 50;
