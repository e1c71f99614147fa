//! The personal part of a referral as the reveal shows it: safe-contact instructions first (and a
//! prohibition on direct contact above everything), then the names the youth uses, contact details
//! with what each is safe for, guardians (a guardian flagged as a suspected exploiter shows no
//! contact details at all), and the referrer's notes behind a content note. Built only for the
//! reveal form's response; nothing here is kept.

use wf_proto::common::v1::{ContactChannel, Date};
use wf_proto::intake::v1 as intake;
use wf_types::Purpose;

use crate::domain::queue::labels::{self, CONTACT_CHANNELS, REVEAL_PURPOSES};

#[derive(Debug, Clone, Default)]
pub struct SafeContact {
    /// Nobody may contact the youth directly: contact goes through the referrer.
    pub prohibited: bool,
    pub channels: Vec<&'static str>,
    pub times: Vec<String>,
    pub never_say: Vec<String>,
    pub code_word: String,
    pub instructions: String,
}

impl SafeContact {
    /// Whether the referrer recorded any instruction.
    pub fn given(&self) -> bool {
        self.prohibited
            || !self.channels.is_empty()
            || !self.times.is_empty()
            || !self.never_say.is_empty()
            || !self.code_word.is_empty()
            || !self.instructions.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct PhoneView {
    pub number: String,
    pub kind: String,
    /// What the number may be used for: call, text, voicemail.
    pub safety: Vec<Use>,
}

/// One use of a phone number, and whether it is safe.
#[derive(Debug, Clone, Copy)]
pub struct Use {
    pub safe: bool,
    /// "Safe to call", "Not safe to text", …
    pub words: &'static str,
}

impl Use {
    fn of(safe: bool, yes: &'static str, no: &'static str) -> Self {
        Use { safe, words: if safe { yes } else { no } }
    }
}

#[derive(Debug, Clone)]
pub struct GuardianView {
    pub name: String,
    pub relationship: String,
    pub legal_authority: bool,
    /// Never contact (flagged as a suspected exploiter): no contact details are shown.
    pub flagged: bool,
    pub may_be_contacted: bool,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Revealed {
    /// The purpose given, in words.
    pub purpose: &'static str,
    /// Intake returned no personal part (none recorded).
    pub nothing_recorded: bool,
    pub safe_contact: SafeContact,
    pub preferred_name: String,
    pub legal_name: String,
    pub pronouns: String,
    pub aliases: Vec<String>,
    pub date_of_birth: String,
    pub estimated_age: Option<i32>,
    pub phones: Vec<PhoneView>,
    pub emails: Vec<String>,
    pub online_handles: Vec<String>,
    pub address: Vec<String>,
    pub guardians: Vec<GuardianView>,
    pub notes: String,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A possibly partial date ("March 2008, day not known").
fn date(date: Option<&Date>) -> String {
    let Some(date) = date.filter(|d| d.year > 0) else { return String::new() };
    let month = usize::try_from(date.month).ok().and_then(|m| m.checked_sub(1)).and_then(|m| MONTHS.get(m));
    match (month, date.day) {
        (Some(month), day) if day > 0 => format!("{month} {day}, {}", date.year),
        (Some(month), _) => format!("{month} {}, day not known", date.year),
        (None, _) => format!("{}, month and day not known", date.year),
    }
}

fn joined(parts: &[&str], separator: &str) -> String {
    parts.iter().filter(|part| !part.trim().is_empty()).copied().collect::<Vec<_>>().join(separator)
}

impl Revealed {
    pub fn of(purpose: Purpose, personal: Option<&intake::PersonalDetails>) -> Self {
        let purpose = labels::label(REVEAL_PURPOSES, purpose).unwrap_or(purpose.code());
        let Some(p) = personal else { return Revealed { purpose, nothing_recorded: true, ..Revealed::default() } };
        let safe = p.safe_contact.clone().unwrap_or_default();
        let address = p
            .address
            .as_ref()
            .map(|a| {
                let city_line = joined(&[&a.city, &a.state_province, &a.postal_code], " ");
                [a.address_1.clone(), a.address_2.clone(), city_line, a.country.clone()]
                    .into_iter()
                    .filter(|line| !line.trim().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Revealed {
            purpose,
            nothing_recorded: false,
            safe_contact: SafeContact {
                prohibited: safe.contacting_prohibited,
                channels: safe
                    .safe_channels
                    .iter()
                    .filter_map(|c| ContactChannel::try_from(*c).ok())
                    .filter_map(|c| labels::label(CONTACT_CHANNELS, c))
                    .collect(),
                times: safe.safe_times.clone(),
                never_say: safe.never_say.clone(),
                code_word: safe.code_word.clone(),
                instructions: safe.instructions.clone(),
            },
            preferred_name: p.preferred_name.clone(),
            legal_name: joined(&[&p.legal_first_name, &p.legal_last_name], " "),
            pronouns: p.pronouns.clone(),
            aliases: p.aliases.clone(),
            date_of_birth: date(p.date_of_birth.as_ref()),
            estimated_age: (p.estimated_age > 0).then_some(p.estimated_age),
            phones: p
                .phones
                .iter()
                .map(|phone| PhoneView {
                    number: phone.number.clone(),
                    kind: phone.kind.replace('_', " "),
                    safety: vec![
                        Use::of(phone.safe_to_call, "Safe to call", "Not safe to call"),
                        Use::of(phone.safe_to_text, "Safe to text", "Not safe to text"),
                        Use::of(phone.safe_to_leave_voicemail, "Voicemail is safe", "No voicemail"),
                    ],
                })
                .collect(),
            emails: p.emails.clone(),
            online_handles: p.online_handles.clone(),
            address,
            guardians: p
                .guardians
                .iter()
                .map(|g| GuardianView {
                    name: joined(&[&g.first_name, &g.last_name], " "),
                    relationship: g.relationship.replace('_', " "),
                    legal_authority: g.has_legal_authority,
                    flagged: g.flagged_as_exploiter,
                    may_be_contacted: g.may_be_contacted && !g.flagged_as_exploiter,
                    phones: if g.flagged_as_exploiter {
                        Vec::new()
                    } else {
                        g.phones.iter().map(|phone| phone.number.clone()).collect()
                    },
                    emails: if g.flagged_as_exploiter { Vec::new() } else { g.emails.clone() },
                })
                .collect(),
            notes: p.notes.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_dates_say_what_is_not_known() {
        assert_eq!(date(Some(&Date { year: 2008, month: 3, day: 9 })), "March 9, 2008");
        assert_eq!(date(Some(&Date { year: 2008, month: 3, day: 0 })), "March 2008, day not known");
        assert_eq!(date(Some(&Date { year: 2008, month: 0, day: 0 })), "2008, month and day not known");
        assert_eq!(date(Some(&Date { year: 0, month: 3, day: 9 })), "");
        assert_eq!(date(None), "");
    }

    #[test]
    fn a_flagged_guardian_shows_no_contact_details() {
        let personal = intake::PersonalDetails {
            guardians: vec![intake::Guardian {
                first_name: "Fictional".into(),
                phones: vec![intake::Phone { number: "+1-555-0199".into(), ..Default::default() }],
                emails: vec!["g@example.org".into()],
                may_be_contacted: true,
                flagged_as_exploiter: true,
                ..Default::default()
            }],
            ..Default::default()
        };
        let revealed = Revealed::of(Purpose::SafetyPlanning, Some(&personal));
        let guardian = &revealed.guardians[0];
        assert!(guardian.flagged && !guardian.may_be_contacted);
        assert!(guardian.phones.is_empty() && guardian.emails.is_empty());
        assert_eq!(revealed.purpose, "Safety planning");
        assert!(!revealed.safe_contact.given());
        assert!(Revealed::of(Purpose::Triage, None).nothing_recorded);
    }
}
