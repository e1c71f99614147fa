//! Validation of the personal part of a referral (names, date of birth, contact
//! details, safe-contact instructions, guardians). Messages never echo a value:
//! they name the field and what is allowed, so errors and logs carry no personal data.

use wf_proto::intake::v1 as pb;

use super::checker::{AGE_MAX, Checker, NAME_LEN, NOTES_LEN, SHORT_TEXT_LEN};
use super::limits;

const MAX_PRONOUNS_LEN: usize = 40;
const MAX_CODE_WORD_LEN: usize = 100;
const MAX_INSTRUCTIONS_LEN: usize = 2_000;
const MAX_POSTAL_CODE_LEN: usize = 16;

pub(crate) fn personal_fields(c: &mut Checker, p: &pb::PersonalDetails) {
    let base = "referral.personal";
    c.name(&format!("{base}.legal_first_name"), &p.legal_first_name, NAME_LEN);
    c.name(&format!("{base}.legal_last_name"), &p.legal_last_name, NAME_LEN);
    c.name(&format!("{base}.preferred_name"), &p.preferred_name, NAME_LEN);
    c.name_list(&format!("{base}.aliases"), &p.aliases, limits::ALIASES, NAME_LEN);
    if let Some(dob) = &p.date_of_birth {
        let field = format!("{base}.date_of_birth");
        if let Some(earliest) = c.partial_date(&field, dob) {
            if crate::domain::age_on(earliest, c.today()) > AGE_MAX {
                c.push(
                    field,
                    format!("gives an age over {AGE_MAX}; allowed: a date of birth at most {AGE_MAX} years ago"),
                );
            } else if (dob.month == 0 || dob.day == 0) && p.dob_data_quality == pb::DataQuality::Full as i32 {
                c.push(
                    format!("{base}.dob_data_quality"),
                    "is DATA_QUALITY_FULL but the date of birth is partial; allowed: DATA_QUALITY_PARTIAL_OR_APPROXIMATE",
                );
            }
        }
    }
    if !(0..=AGE_MAX).contains(&p.estimated_age) {
        c.push(
            format!("{base}.estimated_age"),
            format!("{} is out of range; allowed 0 (unknown) to {AGE_MAX}", p.estimated_age),
        );
    }
    c.enumeration::<pb::DataQuality>(&format!("{base}.name_data_quality"), p.name_data_quality, false);
    c.enumeration::<pb::DataQuality>(&format!("{base}.dob_data_quality"), p.dob_data_quality, false);
    c.phones(&format!("{base}.phones"), &p.phones);
    c.emails(&format!("{base}.emails"), &p.emails);
    c.name_list(&format!("{base}.online_handles"), &p.online_handles, limits::ONLINE_HANDLES, SHORT_TEXT_LEN);
    for (index, handle) in p.online_handles.iter().enumerate() {
        if handle.chars().any(char::is_whitespace) {
            c.push(
                format!("{base}.online_handles[{index}]"),
                "contains spaces; allowed: service:handle, e.g. instagram:@example",
            );
        }
    }
    if let Some(address) = &p.address {
        address_fields(c, &format!("{base}.address"), address);
    }
    if let Some(safe) = &p.safe_contact {
        safe_contact_fields(c, &format!("{base}.safe_contact"), safe);
    }
    c.list_len(&format!("{base}.guardians"), p.guardians.len(), limits::GUARDIANS);
    for (index, guardian) in p.guardians.iter().enumerate() {
        guardian_fields(c, &format!("{base}.guardians[{index}]"), guardian);
    }
    c.text(&format!("{base}.notes"), &p.notes, NOTES_LEN, true);
    c.text(&format!("{base}.pronouns"), &p.pronouns, MAX_PRONOUNS_LEN, false);
}

fn address_fields(c: &mut Checker, p: &str, a: &pb::Address) {
    c.text(&format!("{p}.address_1"), &a.address_1, SHORT_TEXT_LEN, false);
    c.text(&format!("{p}.address_2"), &a.address_2, SHORT_TEXT_LEN, false);
    c.text(&format!("{p}.city"), &a.city, NAME_LEN, false);
    c.text(&format!("{p}.state_province"), &a.state_province, NAME_LEN, false);
    if !a.postal_code.is_empty()
        && (a.postal_code.len() > MAX_POSTAL_CODE_LEN
            || !a.postal_code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-'))
    {
        c.push(
            format!("{p}.postal_code"),
            format!("is not a postal code; allowed: letters, digits, spaces and dashes, at most {MAX_POSTAL_CODE_LEN}"),
        );
    }
    if !a.country.is_empty() && (a.country.len() != 2 || !a.country.bytes().all(|b| b.is_ascii_uppercase())) {
        c.push(format!("{p}.country"), "must be an ISO 3166-1 alpha-2 code of 2 uppercase letters, e.g. US");
    }
}

fn safe_contact_fields(c: &mut Checker, p: &str, s: &pb::SafeContact) {
    c.channels(&format!("{p}.safe_channels"), &s.safe_channels);
    if s.contacting_prohibited && !s.safe_channels.is_empty() {
        c.push(
            format!("{p}.contacting_prohibited"),
            "is true but safe_channels lists channels; allowed: prohibited with no channels, or channels without prohibition",
        );
    }
    c.text_list(&format!("{p}.safe_times"), &s.safe_times, limits::SAFE_TIMES, SHORT_TEXT_LEN);
    c.text_list(&format!("{p}.never_say"), &s.never_say, limits::NEVER_SAY, SHORT_TEXT_LEN);
    c.text(&format!("{p}.code_word"), &s.code_word, MAX_CODE_WORD_LEN, false);
    c.text(&format!("{p}.instructions"), &s.instructions, MAX_INSTRUCTIONS_LEN, true);
}

fn guardian_fields(c: &mut Checker, p: &str, g: &pb::Guardian) {
    c.name(&format!("{p}.first_name"), &g.first_name, NAME_LEN);
    c.name(&format!("{p}.last_name"), &g.last_name, NAME_LEN);
    c.relationship(&format!("{p}.relationship"), &g.relationship);
    c.phones(&format!("{p}.phones"), &g.phones);
    c.emails(&format!("{p}.emails"), &g.emails);
    if g.flagged_as_exploiter && g.may_be_contacted {
        c.push(
            format!("{p}.may_be_contacted"),
            "is true for a guardian flagged as an exploiter; a flagged guardian is never contacted",
        );
    }
}
