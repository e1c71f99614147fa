//! The case-manager roster: who can own cases, where, in which languages, and how many at once.
//! Parsed from TOML and validated as a whole, so a bad file is refused at start-up with every
//! problem named rather than discovered at the first referral.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;
use wf_types::CaseManagerId;

use super::Site;

/// Largest caseload the roster accepts: far above any real one, low enough to catch a typo.
pub const MAX_CASELOAD_LIMIT: u32 = 200;

/// A person who owns cases.
#[derive(Clone, PartialEq, Eq)]
pub struct CaseManager {
    pub id: CaseManagerId,
    /// Short staff code shown in lists and used in operations talk, e.g. "CM-SLA-1".
    pub display_code: String,
    /// Staff name for the staff UI; never logged and never put in events.
    pub display_name: String,
    /// Login user id, when the roster links one.
    pub user_id: Option<String>,
    pub sites: Vec<Site>,
    /// ISO 639 codes, lowercase.
    pub languages: Vec<String>,
    pub max_caseload: u32,
    /// False while on leave or after leaving: keeps existing cases, takes no new ones.
    pub active: bool,
    pub on_call: bool,
    pub engagement_approaches: Vec<String>,
    pub supervisor_id: CaseManagerId,
    /// Leave periods: no new cases while one covers the moment.
    pub leave: Vec<Period>,
    /// Scheduled on-call shifts, besides the standing `on_call` flag.
    pub on_call_shifts: Vec<Period>,
}

/// `[starts_at, ends_at)` in microseconds; `None` = open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    pub starts_at: i64,
    pub ends_at: Option<i64>,
}

impl Period {
    pub fn covers(&self, at: i64) -> bool {
        self.starts_at <= at && self.ends_at.is_none_or(|end| at < end)
    }
}

// Debug leaves out the staff name so a roster entry can never put a name in a log line.
impl fmt::Debug for CaseManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaseManager")
            .field("id", &self.id)
            .field("display_code", &self.display_code)
            .field("sites", &self.sites)
            .field("languages", &self.languages)
            .field("max_caseload", &self.max_caseload)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

impl CaseManager {
    /// Serves `site` directly or serves every site.
    pub fn serves(&self, site: Site) -> bool {
        self.sites.contains(&site) || self.sites.contains(&Site::Countywide)
    }

    pub fn speaks(&self, language: &str) -> bool {
        self.languages.iter().any(|spoken| spoken == language)
    }

    pub fn on_leave_at(&self, at: i64) -> bool {
        self.leave.iter().any(|period| period.covers(at))
    }

    /// Takes new cases at `at`: active and not on leave.
    pub fn available_at(&self, at: i64) -> bool {
        self.active && !self.on_leave_at(at)
    }

    /// Takes emergent referrals at `at`: the standing flag, or a shift covering `at`.
    pub fn on_call_at(&self, at: i64) -> bool {
        self.on_call || self.on_call_shifts.iter().any(|shift| shift.covers(at))
    }
}

/// A supervisor: owns the queue of cases nobody could take, and is the escalation point.
#[derive(Clone, PartialEq, Eq)]
pub struct Supervisor {
    pub id: CaseManagerId,
    pub display_code: String,
    pub display_name: String,
    pub user_id: Option<String>,
    pub sites: Vec<Site>,
}

impl fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervisor")
            .field("id", &self.id)
            .field("display_code", &self.display_code)
            .field("sites", &self.sites)
            .finish_non_exhaustive()
    }
}

/// A validated roster; case managers are kept sorted by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    case_managers: Vec<CaseManager>,
    supervisors: Vec<Supervisor>,
}

/// One problem in a roster file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterViolation {
    /// Which entry, e.g. `case_manager[2]`.
    pub entry: String,
    pub field: &'static str,
    pub reason: String,
}

impl fmt::Display for RosterViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} field `{}`: {}", self.entry, self.field, self.reason)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    #[error("roster is not valid TOML for the roster format: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("roster is invalid: {}", join(.0))]
    Invalid(Vec<RosterViolation>),
}

fn join(violations: &[RosterViolation]) -> String {
    violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterFile {
    #[serde(default, rename = "supervisor")]
    supervisors: Vec<SupervisorEntry>,
    #[serde(default, rename = "case_manager")]
    case_managers: Vec<CaseManagerEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SupervisorEntry {
    id: String,
    display_code: String,
    display_name: String,
    user_id: Option<String>,
    sites: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseManagerEntry {
    id: String,
    display_code: String,
    display_name: String,
    user_id: Option<String>,
    sites: Vec<String>,
    languages: Vec<String>,
    max_caseload: i64,
    #[serde(default = "default_active")]
    active: bool,
    #[serde(default)]
    on_call: bool,
    #[serde(default)]
    engagement_approaches: Vec<String>,
    supervisor: String,
}

fn default_active() -> bool {
    true
}

impl Roster {
    /// Parses and validates a roster file's contents.
    pub fn from_toml(text: &str) -> Result<Roster, RosterError> {
        let file: RosterFile = toml::from_str(text)?;
        let mut check = Checker::default();
        if file.supervisors.is_empty() {
            check.fail("roster", "supervisor", "at least one [[supervisor]] is required");
        }
        if file.case_managers.is_empty() {
            check.fail("roster", "case_manager", "at least one [[case_manager]] is required");
        }
        let mut supervisors = Vec::with_capacity(file.supervisors.len());
        for (index, entry) in file.supervisors.into_iter().enumerate() {
            let name = format!("supervisor[{index}]");
            let id = check.id(&name, "id", &entry.id);
            let display_code = check.display_code(&name, entry.display_code);
            let display_name = check.display_name(&name, entry.display_name);
            let user_id = check.user_id(&name, entry.user_id);
            let sites = check.sites(&name, &entry.sites);
            if let Some(id) = id {
                supervisors.push(Supervisor { id, display_code, display_name, user_id, sites });
            }
        }
        let supervisor_ids: HashSet<&CaseManagerId> = supervisors.iter().map(|s| &s.id).collect();
        let mut case_managers = Vec::with_capacity(file.case_managers.len());
        for (index, entry) in file.case_managers.into_iter().enumerate() {
            let name = format!("case_manager[{index}]");
            let id = check.id(&name, "id", &entry.id);
            let display_code = check.display_code(&name, entry.display_code);
            let display_name = check.display_name(&name, entry.display_name);
            let user_id = check.user_id(&name, entry.user_id);
            let sites = check.sites(&name, &entry.sites);
            let languages = check.languages(&name, entry.languages);
            let max_caseload = check.max_caseload(&name, entry.max_caseload);
            let engagement_approaches = check.approaches(&name, entry.engagement_approaches);
            let supervisor_id = check.id(&name, "supervisor", &entry.supervisor);
            if let Some(supervisor) = &supervisor_id
                && !supervisor_ids.contains(supervisor)
            {
                check.fail(&name, "supervisor", format!("{supervisor} is not a [[supervisor]] in this roster"));
            }
            if let (Some(id), Some(supervisor_id)) = (id, supervisor_id) {
                case_managers.push(CaseManager {
                    id,
                    display_code,
                    display_name,
                    user_id,
                    sites,
                    languages,
                    max_caseload,
                    active: entry.active,
                    on_call: entry.on_call,
                    engagement_approaches,
                    supervisor_id,
                    leave: Vec::new(),
                    on_call_shifts: Vec::new(),
                });
            }
        }
        check.finish()?;
        case_managers.sort_by(|a, b| a.id.cmp(&b.id));
        supervisors.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Roster { case_managers, supervisors })
    }

    /// A roster from entries already validated one by one (the database's copy); sorts them.
    pub fn from_parts(mut case_managers: Vec<CaseManager>, mut supervisors: Vec<Supervisor>) -> Roster {
        case_managers.sort_by(|a, b| a.id.cmp(&b.id));
        supervisors.sort_by(|a, b| a.id.cmp(&b.id));
        Roster { case_managers, supervisors }
    }

    /// Supervisors serving `site` (directly or countywide): whose queue a case there waits in.
    pub fn supervisors_serving(&self, site: Site) -> impl Iterator<Item = &Supervisor> {
        self.supervisors.iter().filter(move |s| s.sites.contains(&site) || s.sites.contains(&Site::Countywide))
    }

    pub fn supervisor(&self, id: &CaseManagerId) -> Option<&Supervisor> {
        self.supervisors.iter().find(|s| &s.id == id)
    }

    /// Sorted by id.
    pub fn case_managers(&self) -> &[CaseManager] {
        &self.case_managers
    }

    pub fn supervisors(&self) -> &[Supervisor] {
        &self.supervisors
    }

    pub fn case_manager(&self, id: &CaseManagerId) -> Option<&CaseManager> {
        self.case_managers.iter().find(|cm| &cm.id == id)
    }

    /// The case manager whose sign-in is `user_id`.
    pub fn case_manager_of_user(&self, user_id: &str) -> Option<&CaseManager> {
        self.case_managers.iter().find(|cm| cm.user_id.as_deref() == Some(user_id))
    }
}

/// Collects violations and enforces uniqueness across the whole file.
#[derive(Default)]
struct Checker {
    violations: Vec<RosterViolation>,
    ids: HashSet<String>,
    display_codes: HashSet<String>,
    user_ids: HashSet<String>,
}

impl Checker {
    fn fail(&mut self, entry: &str, field: &'static str, reason: impl Into<String>) {
        self.violations.push(RosterViolation { entry: entry.to_owned(), field, reason: reason.into() });
    }

    fn finish(self) -> Result<(), RosterError> {
        if self.violations.is_empty() { Ok(()) } else { Err(RosterError::Invalid(self.violations)) }
    }

    /// Parses an id; `field == "id"` also claims it as unique across the file.
    fn id(&mut self, entry: &str, field: &'static str, value: &str) -> Option<CaseManagerId> {
        match value.parse::<CaseManagerId>() {
            Ok(id) => {
                if field == "id" && !self.ids.insert(value.to_owned()) {
                    self.fail(entry, field, format!("{value} appears more than once in the roster"));
                    return None;
                }
                Some(id)
            }
            Err(err) => {
                self.fail(entry, field, format!("{value:?}: {err}"));
                None
            }
        }
    }

    fn display_code(&mut self, entry: &str, code: String) -> String {
        if let Some(problem) = rules::display_code(&code) {
            self.fail(entry, "display_code", problem);
        } else if !self.display_codes.insert(code.clone()) {
            self.fail(entry, "display_code", format!("{code:?} appears more than once in the roster"));
        }
        code
    }

    fn display_name(&mut self, entry: &str, name: String) -> String {
        if let Some(problem) = rules::display_name(&name) {
            self.fail(entry, "display_name", problem);
        }
        name.trim().to_owned()
    }

    fn user_id(&mut self, entry: &str, user_id: Option<String>) -> Option<String> {
        let user_id = user_id?;
        if let Some(problem) = rules::user_id(&user_id) {
            self.fail(entry, "user_id", problem);
        } else if !self.user_ids.insert(user_id.clone()) {
            // One login is one roster entry: privileged notes follow it.
            self.fail(entry, "user_id", "appears more than once in the roster; one user is one roster entry");
        }
        Some(user_id)
    }

    fn sites(&mut self, entry: &str, codes: &[String]) -> Vec<Site> {
        if codes.is_empty() {
            self.fail(entry, "sites", "at least one site is required");
        }
        let mut sites = Vec::with_capacity(codes.len());
        for code in codes {
            match Site::from_code(code) {
                Some(site) if sites.contains(&site) => {
                    self.fail(entry, "sites", format!("{code:?} is listed twice"));
                }
                Some(site) => sites.push(site),
                None => self.fail(
                    entry,
                    "sites",
                    format!("{code:?} is not a site; allowed: south_los_angeles, san_fernando_valley, countywide"),
                ),
            }
        }
        sites
    }

    fn languages(&mut self, entry: &str, languages: Vec<String>) -> Vec<String> {
        if languages.is_empty() {
            self.fail(entry, "languages", "at least one ISO 639 language code is required");
        }
        let mut seen = HashSet::new();
        for language in &languages {
            if let Some(problem) = rules::language(language) {
                self.fail(entry, "languages", problem);
            } else if !seen.insert(language.as_str()) {
                self.fail(entry, "languages", format!("{language:?} is listed twice"));
            }
        }
        languages
    }

    fn max_caseload(&mut self, entry: &str, value: i64) -> u32 {
        rules::max_caseload(value).unwrap_or_else(|problem| {
            self.fail(entry, "max_caseload", problem);
            0
        })
    }

    fn approaches(&mut self, entry: &str, approaches: Vec<String>) -> Vec<String> {
        for approach in &approaches {
            if let Some(problem) = rules::approach(approach) {
                self.fail(entry, "engagement_approaches", problem);
            }
        }
        approaches
    }
}

/// The rules of one roster field, shared by the roster file and `UpsertCaseManager`: `None` (or
/// `Ok`) when the value is acceptable, else what is wrong and what is allowed.
pub mod rules {
    use super::MAX_CASELOAD_LIMIT;

    pub fn display_code(code: &str) -> Option<String> {
        let well_formed = (2..=32).contains(&code.len())
            && code.starts_with(|c: char| c.is_ascii_uppercase())
            && code
                .split('-')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        (!well_formed).then(|| {
            format!("{code:?} must be 2 to 32 characters of A-Z and 0-9 in dash-separated parts, e.g. \"CM-SLA-1\"")
        })
    }

    /// The value itself is never part of the message: it is a person's name.
    pub fn display_name(name: &str) -> Option<String> {
        let trimmed = name.trim();
        (trimmed.is_empty() || trimmed.chars().count() > 100).then(|| "must be 1 to 100 characters".to_owned())
    }

    pub fn user_id(user_id: &str) -> Option<String> {
        (user_id.is_empty() || user_id.len() > 128 || user_id.chars().any(char::is_whitespace))
            .then(|| "must be 1 to 128 characters without spaces when given".to_owned())
    }

    pub fn language(language: &str) -> Option<String> {
        let well_formed = (2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_lowercase());
        (!well_formed).then(|| {
            format!("{language:?} is not an ISO 639 code (two or three lowercase letters, e.g. \"en\", \"es\")")
        })
    }

    pub fn max_caseload(value: i64) -> Result<u32, String> {
        match u32::try_from(value) {
            Ok(cap) if (1..=MAX_CASELOAD_LIMIT).contains(&cap) => Ok(cap),
            _ => Err(format!("{value} is out of range: allowed 1 to {MAX_CASELOAD_LIMIT}")),
        }
    }

    pub fn approach(approach: &str) -> Option<String> {
        let well_formed = !approach.is_empty()
            && approach.len() <= 64
            && approach.starts_with(|c: char| c.is_ascii_lowercase())
            && approach.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        (!well_formed).then(|| format!("{approach:?} is not a code (lowercase letters, digits and underscores)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPERVISOR: &str = r#"
[[supervisor]]
id = "cm_00000000000000000000000000000001"
display_code = "SUP-1"
display_name = "Test Supervisor"
sites = ["countywide"]
"#;

    fn with_case_manager(body: &str) -> String {
        format!("{SUPERVISOR}\n[[case_manager]]\n{body}")
    }

    fn violations(text: &str) -> Vec<String> {
        match Roster::from_toml(text) {
            Err(RosterError::Invalid(violations)) => violations.iter().map(ToString::to_string).collect(),
            other => panic!("expected violations, got {other:?}"),
        }
    }

    #[test]
    fn the_demo_roster_is_valid_and_favours_south_los_angeles() {
        let roster = Roster::from_toml(include_str!("../../demo/roster.toml")).expect("demo roster");
        let serving = |site| roster.case_managers().iter().filter(|cm| cm.active && cm.sites.contains(&site)).count();
        assert!(serving(Site::SouthLosAngeles) > serving(Site::SanFernandoValley));
        assert!(roster.case_managers().iter().any(|cm| cm.active && cm.speaks("es")));
        assert!(roster.case_managers().windows(2).all(|pair| pair[0].id < pair[1].id));
    }

    #[test]
    fn every_problem_is_named_with_its_entry_and_field() {
        let text = with_case_manager(
            r#"
id = "cm_XYZ"
display_code = "cm sla"
display_name = " "
sites = ["downtown"]
languages = ["EN"]
max_caseload = 0
supervisor = "cm_00000000000000000000000000000009"
"#,
        );
        let found = violations(&text);
        let expect = [
            "case_manager[0] field `id`: \"cm_XYZ\": expected `cm_` followed by 32 lowercase hex digits",
            "case_manager[0] field `display_code`",
            "case_manager[0] field `display_name`: must be 1 to 100 characters",
            "case_manager[0] field `sites`: \"downtown\" is not a site",
            "case_manager[0] field `languages`: \"EN\" is not an ISO 639 code",
            "case_manager[0] field `max_caseload`: 0 is out of range: allowed 1 to 200",
            "case_manager[0] field `supervisor`: cm_00000000000000000000000000000009 is not a [[supervisor]]",
        ];
        assert_eq!(found.len(), expect.len(), "{found:#?}");
        for (found, expected) in found.iter().zip(expect) {
            assert!(found.starts_with(expected), "{found:?} should start with {expected:?}");
        }
    }

    #[test]
    fn ids_and_display_codes_are_unique_across_the_file() {
        let entry = r#"
id = "cm_00000000000000000000000000000001"
display_code = "SUP-1"
display_name = "Test Case Manager"
sites = ["south_los_angeles"]
languages = ["en"]
max_caseload = 5
supervisor = "cm_00000000000000000000000000000001"
"#;
        let found = violations(&with_case_manager(entry));
        assert_eq!(
            found,
            [
                "case_manager[0] field `id`: cm_00000000000000000000000000000001 appears more than once in the roster",
                "case_manager[0] field `display_code`: \"SUP-1\" appears more than once in the roster",
            ]
        );
    }

    #[test]
    fn unknown_fields_and_empty_rosters_are_refused() {
        let err = Roster::from_toml(&format!("{SUPERVISOR}\nnickname = \"x\"")).unwrap_err();
        assert!(err.to_string().contains("unknown field `nickname`"), "{err}");
        assert_eq!(violations(SUPERVISOR), ["roster field `case_manager`: at least one [[case_manager]] is required"]);
    }

    #[test]
    fn names_stay_out_of_debug_output() {
        let roster = Roster::from_toml(include_str!("../../demo/roster.toml")).expect("demo roster");
        let shown = format!("{roster:?}");
        assert!(!shown.contains("Demo Case Manager"), "{shown}");
        assert!(!shown.contains("Demo Supervisor"), "{shown}");
    }
}
