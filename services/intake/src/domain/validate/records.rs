//! Validation of the coded sub-records of a referral: screenings, income,
//! employment and arrests.

use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as pb;

use super::checker::{Checker, MAX_CODE_LEN};
use super::limits;

/// Upper bound on a monthly income, far above anything plausible: catches unit mistakes.
const MAX_MONTHLY_INCOME_CENTS: i64 = 10_000_000;
const MAX_SCREENING_SCORE: i32 = 1_000;

pub(crate) fn screening_fields(c: &mut Checker, p: &str, s: &pb::Screening) {
    c.enumeration::<common::ScreeningTool>(&format!("{p}.tool"), s.tool, true);
    // A version label (e.g. "TVIT short 2014"), never a note: short, letters, digits, spaces and . - _ only.
    const MAX_TOOL_VERSION_LEN: usize = 32;
    if s.tool_version.len() > MAX_TOOL_VERSION_LEN
        || !s.tool_version.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b' ' | b'.' | b'-' | b'_'))
    {
        c.push(
            format!("{p}.tool_version"),
            format!(
                "must be a version label of at most {MAX_TOOL_VERSION_LEN} letters, digits, spaces, '.', '-' or '_' \
                 (e.g. \"TVIT short 2014\")"
            ),
        );
    }
    c.instant(&format!("{p}.screened_at"), s.screened_at.as_ref());
    // Screener ids are user or service ids, never names: restrict them to id characters.
    if !s.screener_id.is_empty()
        && (s.screener_id.len() > MAX_CODE_LEN
            || !s.screener_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'))
    {
        c.push(format!("{p}.screener_id"), "must be a user or service id (letters, digits, _ - .), never a name");
    }
    c.id(&format!("{p}.screener_organization_id"), &s.screener_organization_id, "org_");
    c.enumeration::<common::ScreeningResult>(&format!("{p}.result"), s.result, true);
    if !(0..=MAX_SCREENING_SCORE).contains(&s.score) {
        c.push(format!("{p}.score"), format!("{} is out of range; allowed 0 to {MAX_SCREENING_SCORE}", s.score));
    }
}

pub(crate) fn income_fields(c: &mut Checker, income: &common::Income) {
    let p = "referral.income";
    c.enumeration::<common::NoYes>(&format!("{p}.any_income"), income.any_income, false);
    if !(0..=MAX_MONTHLY_INCOME_CENTS).contains(&income.total_monthly_income_cents) {
        c.push(
            format!("{p}.total_monthly_income_cents"),
            format!(
                "{} is out of range; allowed 0 to {MAX_MONTHLY_INCOME_CENTS} (US cents per month)",
                income.total_monthly_income_cents
            ),
        );
    }
    c.enumeration_list::<common::IncomeSource>(&format!("{p}.sources"), &income.sources, limits::CODED);
    if income.any_income == common::NoYes::No as i32
        && (income.total_monthly_income_cents != 0 || !income.sources.is_empty())
    {
        c.push(
            format!("{p}.any_income"),
            "is NO_YES_NO but an amount or sources are given; allowed: YES, or no amount",
        );
    }
}

pub(crate) fn employment_fields(c: &mut Checker, employment: &common::Employment) {
    let p = "referral.employment";
    c.enumeration::<common::NoYes>(&format!("{p}.employed"), employment.employed, false);
    c.enumeration::<common::EmploymentType>(&format!("{p}.type"), employment.r#type, false);
    c.enumeration::<common::NotEmployedReason>(
        &format!("{p}.not_employed_reason"),
        employment.not_employed_reason,
        false,
    );
    // Contradictions only between answers that are themselves valid.
    let employed_known = common::NoYes::try_from(employment.employed).is_ok();
    if employed_known && employment.r#type != 0 && employment.employed != common::NoYes::Yes as i32 {
        c.push(format!("{p}.type"), "is set but employed is not NO_YES_YES; allowed only when employed");
    }
    if employed_known && employment.not_employed_reason != 0 && employment.employed != common::NoYes::No as i32 {
        c.push(
            format!("{p}.not_employed_reason"),
            "is set but employed is not NO_YES_NO; allowed only when not employed",
        );
    }
}

pub(crate) fn arrest_fields(c: &mut Checker, p: &str, arrest: &pb::ArrestEvent) {
    match &arrest.date {
        Some(date) => {
            c.partial_date(&format!("{p}.date"), date);
        }
        None => c.push(format!("{p}.date"), "is required; allowed: a year, optionally month and day (0 = unknown)"),
    }
    c.code(&format!("{p}.charge_category"), &arrest.charge_category, false, "loitering_with_intent");
    c.enumeration::<common::JusticeLevel>(&format!("{p}.justice_level"), arrest.justice_level, false);
    c.enumeration::<common::NoYes>(&format!("{p}.prostitution_related"), arrest.prostitution_related, false);
}
