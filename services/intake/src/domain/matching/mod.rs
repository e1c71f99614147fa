//! Returning youth: keyed hashes to find earlier referrals of the same person, and a tolerant score
//! for the candidates those hashes turn up. Pure: the store keeps the hashes, the API decides.
//!
//! Privacy trade-off (also in docs/architecture.md): only HMACs of normalized identity fields are stored
//! outside the sealed vault. Exact keys (name + date of birth, phone, email) can only match exactly, so
//! tolerant matching needs the plaintext of a few candidates: coarse *blocking* keys (HMAC of birth year +
//! first letter of the last name, HMAC of the sound codes of both names, HMAC of a name + birth month/day)
//! pick those candidates, whose sealed details are then opened in memory, scored, and dropped. Nothing
//! readable is written; the blocking keys reveal only that two referrals share a coarse trait, and only to
//! someone holding the identity key.

use std::collections::BTreeSet;

use wf_crypto::{IdentityHasher, normalize_identity};
use wf_proto::intake::v1 as pb;

/// Score at or above which a candidate becomes a "possible match" for staff. Tuned with
/// `cargo bench -p wf-intake --bench matching` (see docs/architecture.md for the figures).
pub const DEFAULT_THRESHOLD: f64 = 0.82;

/// Purpose code of the access events the matcher records.
pub const ACCESS_PURPOSE: &str = "returning_youth_matching";

/// The personal fields [`Identity::from_details`] reads, as field paths for access events.
pub const FIELDS_READ: &[&str] = &[
    "personal.legal_first_name",
    "personal.legal_last_name",
    "personal.preferred_name",
    "personal.aliases",
    "personal.date_of_birth",
    "personal.estimated_age",
    "personal.phones",
    "personal.emails",
];

/// The identity fields matching looks at, normalized.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity {
    /// First, preferred and alias given names, normalized.
    pub given: Vec<String>,
    pub last: String,
    /// (year, month, day) when fully known.
    pub dob: Option<(i32, u32, u32)>,
    /// Birth year from the date of birth, else estimated from age at receipt.
    pub birth_year: Option<i32>,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
}

fn norm(name: &str) -> String {
    // normalize_identity("x", name, None) is "x|<name>|": reuse its folding rules.
    normalize_identity("", name, None).trim_matches('|').to_owned()
}

impl Identity {
    /// From personal details received in `received_year` (for an estimated age).
    pub fn from_details(details: &pb::PersonalDetails, received_year: i32) -> Self {
        let mut given = Vec::new();
        for name in [&details.legal_first_name, &details.preferred_name] {
            let name = norm(name);
            if !name.is_empty() && !given.contains(&name) {
                given.push(name);
            }
        }
        for alias in &details.aliases {
            // An alias may be a full name: its first word is a given name.
            if let Some(first) = norm(alias).split(' ').next().filter(|w| w.len() > 1)
                && !given.iter().any(|g| g == first)
            {
                given.push(first.to_owned());
            }
        }
        let dob = details.date_of_birth.and_then(|d| {
            (d.year > 0 && (1..=12).contains(&d.month) && (1..=31).contains(&d.day)).then_some((
                d.year,
                d.month as u32,
                d.day as u32,
            ))
        });
        let birth_year = details
            .date_of_birth
            .filter(|d| d.year > 0)
            .map(|d| d.year)
            .or_else(|| (details.estimated_age > 0).then(|| received_year - details.estimated_age));
        let phones = details
            .phones
            .iter()
            .map(|p| {
                let digits: String = p.number.chars().filter(char::is_ascii_digit).collect();
                digits[digits.len().saturating_sub(10)..].to_owned()
            })
            .filter(|d| d.len() >= 7)
            .collect();
        let emails = details.emails.iter().map(|e| e.trim().to_lowercase()).filter(|e| e.contains('@')).collect();
        Identity { given, last: norm(&details.legal_last_name), dob, birth_year, phones, emails }
    }
}

/// A keyed hash with what it is: exact kinds ("name_dob", "alias_dob", "phone", "email") or blocking
/// kinds ("block_*") that only select candidates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MatchKey {
    pub kind: &'static str,
    pub hash: String,
}

/// Every keyed hash stored for a referral.
pub fn keys(identity: &Identity, hasher: &IdentityHasher) -> Vec<MatchKey> {
    let mut keys = BTreeSet::new();
    let mut add = |kind: &'static str, text: String| {
        keys.insert(MatchKey { kind, hash: hasher.hash_hex(&format!("{kind}:{text}")) });
    };
    if let (Some(first), Some(dob)) = (identity.given.first(), identity.dob)
        && !identity.last.is_empty()
    {
        add("name_dob", normalize_identity(first, &identity.last, Some(dob)));
        for alias in &identity.given[1..] {
            add("alias_dob", normalize_identity(alias, &identity.last, Some(dob)));
        }
    }
    for phone in &identity.phones {
        add("phone", phone.clone());
    }
    for email in &identity.emails {
        add("email", email.clone());
    }
    let last_initial = identity.last.chars().next();
    if let (Some(year), Some(initial)) = (identity.birth_year, last_initial) {
        // An estimated year may be off by one either way.
        for y in year - 1..=year + 1 {
            add("block_year_last", format!("{y}|{initial}"));
        }
    }
    if !identity.last.is_empty() {
        for given in &identity.given {
            for canonical in canonical_names(given) {
                add("block_sound", format!("{}|{}", soundex(&canonical), soundex(&identity.last)));
            }
        }
    }
    if let Some((_, month, day)) = identity.dob {
        // Survives a changed or misspelt last name; month/day in both orders survive a swap.
        let (lo, hi) = (month.min(day), month.max(day));
        for given in &identity.given {
            for canonical in canonical_names(given) {
                add("block_given_md", format!("{canonical}|{lo}|{hi}"));
            }
        }
    }
    keys.into_iter().collect()
}

/// Nicknames and their formal names (both directions are looked up). Small on purpose: a wrong entry
/// makes different people look alike.
const NICKNAMES: &[(&str, &[&str])] = &[
    ("alex", &["alexander", "alexandra", "alexis", "alejandro", "alejandra"]),
    ("liz", &["elizabeth"]),
    ("beth", &["elizabeth"]),
    ("betty", &["elizabeth"]),
    ("lizzie", &["elizabeth"]),
    ("bill", &["william"]),
    ("will", &["william"]),
    ("billy", &["william"]),
    ("kate", &["katherine", "catherine", "kathryn"]),
    ("katie", &["katherine", "catherine", "kathryn"]),
    ("kathy", &["katherine", "catherine", "kathryn"]),
    ("bob", &["robert"]),
    ("rob", &["robert"]),
    ("bobby", &["robert"]),
    ("mike", &["michael"]),
    ("jim", &["james"]),
    ("jimmy", &["james"]),
    ("jenny", &["jennifer"]),
    ("jen", &["jennifer"]),
    ("chris", &["christopher", "christina", "christine"]),
    ("tony", &["anthony", "antonio"]),
    ("dan", &["daniel"]),
    ("danny", &["daniel"]),
    ("sam", &["samuel", "samantha"]),
    ("nick", &["nicholas"]),
    ("matt", &["matthew"]),
    ("joe", &["joseph"]),
    ("josh", &["joshua"]),
    ("tom", &["thomas"]),
    ("abby", &["abigail"]),
    ("maggie", &["margaret"]),
    ("meg", &["margaret", "megan"]),
    ("peggy", &["margaret"]),
    ("vicky", &["victoria"]),
    ("gabby", &["gabriela", "gabriella", "gabrielle"]),
    ("lupe", &["guadalupe"]),
    ("pepe", &["jose"]),
    ("paco", &["francisco"]),
    ("nacho", &["ignacio"]),
];

/// A given name with the formal names it may stand for (and itself).
pub fn canonical_names(name: &str) -> Vec<String> {
    let mut out = vec![name.to_owned()];
    for (nick, formal) in NICKNAMES {
        if *nick == name {
            out.extend(formal.iter().map(|f| (*f).to_owned()));
        } else if formal.contains(&name) {
            out.push((*nick).to_owned());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// American Soundex: a letter and three digits, "" for a name without letters.
pub fn soundex(name: &str) -> String {
    let code = |c: char| match c {
        'b' | 'f' | 'p' | 'v' => '1',
        'c' | 'g' | 'j' | 'k' | 'q' | 's' | 'x' | 'z' => '2',
        'd' | 't' => '3',
        'l' => '4',
        'm' | 'n' => '5',
        'r' => '6',
        'h' | 'w' => '-',
        _ => '0',
    };
    let mut letters = name.chars().filter(char::is_ascii_alphabetic).map(|c| c.to_ascii_lowercase());
    let Some(first) = letters.next() else { return String::new() };
    let mut out = first.to_ascii_uppercase().to_string();
    let mut last = code(first);
    for c in letters {
        let digit = code(c);
        if digit == '-' {
            continue; // h and w do not separate equal codes
        }
        if digit != '0' && digit != last {
            out.push(digit);
            if out.len() == 4 {
                break;
            }
        }
        last = digit;
    }
    while out.len() < 4 {
        out.push('0');
    }
    out
}

/// Similarity of two given names: 1 when one may be a nickname of the other, else string similarity.
pub fn given_similarity(a: &str, b: &str) -> f64 {
    let (ca, cb) = (canonical_names(a), canonical_names(b));
    if ca.iter().any(|x| cb.contains(x)) {
        return 1.0;
    }
    name_similarity(a, b)
}

/// Jaro–Winkler, lifted for one edit (a transposition or typo in a short name hurts Jaro–Winkler more
/// than it should).
pub fn name_similarity(a: &str, b: &str) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let jw = strsim::jaro_winkler(a, b);
    let edits = strsim::damerau_levenshtein(a, b);
    if edits <= 1 && a.len().min(b.len()) >= 4 { jw.max(0.95) } else { jw }
}

/// How alike two dates of birth are: exact 1, day and month swapped 0.9, one digit off 0.8; when either
/// is unknown, the birth years (possibly estimated) decide between a neutral 0.5 and 0.
pub fn dob_similarity(a: &Identity, b: &Identity) -> f64 {
    match (a.dob, b.dob) {
        (Some(x), Some(y)) if x == y => 1.0,
        (Some((ya, ma, da)), Some((yb, mb, db))) if ya == yb && ma == db && da == mb => 0.9,
        (Some((ya, ma, da)), Some((yb, mb, db))) => {
            let (sa, sb) = (format!("{ya:04}{ma:02}{da:02}"), format!("{yb:04}{mb:02}{db:02}"));
            let differing = sa.chars().zip(sb.chars()).filter(|(p, q)| p != q).count();
            if differing == 1 { 0.8 } else { 0.0 }
        }
        _ => match (a.birth_year, b.birth_year) {
            (Some(x), Some(y)) if (x - y).abs() <= 1 => 0.5,
            (Some(_), Some(_)) => 0.0,
            _ => 0.4,
        },
    }
}

/// A scored comparison: 0..1 and the exact keys that agreed.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub score: f64,
    pub matched_on: Vec<&'static str>,
}

/// How likely `a` and `b` are the same youth. Names and birth date carry the weight; a shared phone or
/// email lifts the score (phones change and are shared, so they never decide alone).
pub fn score(a: &Identity, b: &Identity) -> Score {
    let given =
        a.given.iter().flat_map(|x| b.given.iter().map(move |y| given_similarity(x, y))).fold(0.0_f64, f64::max);
    let last = name_similarity(&a.last, &b.last);
    let dob = dob_similarity(a, b);
    let phone = a.phones.iter().any(|p| b.phones.contains(p));
    let email = a.emails.iter().any(|e| b.emails.contains(e));
    let mut value = 0.3 * given + 0.35 * last + 0.35 * dob;
    if phone {
        value += 0.1;
    }
    if email {
        value += 0.1;
    }
    let mut matched_on = Vec::new();
    if given == 1.0 && last == 1.0 && dob == 1.0 {
        matched_on.push("name_dob");
    }
    if phone {
        matched_on.push("phone");
    }
    if email {
        matched_on.push("email");
    }
    if matched_on.is_empty() {
        matched_on.push("tolerant");
    }
    // Three decimals: enough to rank, and no 0.999… for a perfect match from float sums.
    Score { score: ((value * 1000.0).round() / 1000.0).min(1.0), matched_on }
}

#[cfg(test)]
mod tests;
