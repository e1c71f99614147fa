use super::*;

const ORG: &str = "org_37500f7421c4437980c5cff292270a56";
const SVC: &str = "svc_589f1abfe2c84ee69379e35009a718c6";

/// A valid one-organization directory; tests break one field at a time.
fn minimal() -> String {
    format!(
        r#"
[[organization]]
id = "{ORG}"
name = "Demo Team"
description = "test team"
program_team = true

[[organization.service]]
id = "{SVC}"
name = "Demo Service"
service_types = ["intensive_case_management"]
minimum_age = 12
maximum_age = 24
serves_minors = true
service_areas = [{{ name = "County", site = "countywide" }}]
languages = ["en"]
capacity = [{{ unit = "client", available = 1, maximum = 2 }}]
"#
    )
}

fn issues_of(document: &str) -> Vec<DirectoryIssue> {
    match Directory::from_toml(document) {
        Err(DirectoryError::Invalid(issues)) => issues,
        other => panic!("expected validation issues, got {other:?}"),
    }
}

fn single_issue(document: &str) -> String {
    let issues = issues_of(document);
    assert_eq!(issues.len(), 1, "{issues:?}");
    issues[0].to_string()
}

#[test]
fn minimal_directory_loads() {
    let directory = Directory::from_toml(&minimal()).unwrap();
    assert_eq!(directory.organizations.len(), 1);
    let service = directory.service(SVC).unwrap();
    assert_eq!(service.organization_id.as_str(), ORG);
    assert_eq!(service.status, ServiceStatus::Active);
    assert_eq!(service.open_capacity(), 1);
}

#[test]
fn demo_directory_has_nine_partners_and_the_program_team() {
    let directory = Directory::demo().unwrap();
    assert_eq!(directory.organizations.len(), 10);
    assert!(directory.organizations.iter().all(|org| org.name.starts_with("Demo ")));
    let teams: Vec<&Organization> = directory.organizations.iter().filter(|org| org.program_team).collect();
    assert_eq!(teams.len(), 1);
    let team = teams[0];
    assert_eq!(team.name, "Demo CAST Case Management");
    assert_eq!(team.sites(), vec![Site::Countywide]);
    let service = &team.services[0];
    assert_eq!(service.service_types, vec!["intensive_case_management", "victim_advocacy"]);
    assert_eq!((service.minimum_age, service.maximum_age, service.serves_minors), (12, 24, true));
    for site in [Site::SouthLosAngeles, Site::SanFernandoValley, Site::Countywide] {
        let partners = directory.organizations.iter().filter(|org| !org.program_team && org.sites().contains(&site));
        assert!(partners.count() >= 2, "too few partners serve {site:?}");
    }
}

#[test]
fn bad_organization_id_names_the_organization_and_field() {
    let message = single_issue(&minimal().replace(ORG, "org_NOTHEX"));
    assert!(message.contains("organization[0] org_NOTHEX (\"Demo Team\") field id"), "{message}");
    assert!(message.contains("32 lowercase hex digits"), "{message}");
}

#[test]
fn bad_service_id_names_the_service() {
    let message = single_issue(&minimal().replace(SVC, "svc_123"));
    assert!(message.contains("service[0] svc_123 field id"), "{message}");
}

#[test]
fn unknown_service_type_lists_what_is_allowed() {
    let message = single_issue(&minimal().replace("\"intensive_case_management\"]", "\"astrology\"]"));
    assert!(message.contains("field service_types: \"astrology\" is not a known service type"), "{message}");
    assert!(message.contains("victim_advocacy"), "{message}");
}

#[test]
fn additional_service_types_extend_the_list() {
    let document = format!(
        "additional_service_types = [\"tattoo_removal\"]\n{}",
        minimal().replace("\"intensive_case_management\"]", "\"tattoo_removal\"]")
    );
    let directory = Directory::from_toml(&document).unwrap();
    assert_eq!(directory.service(SVC).unwrap().service_types, vec!["tattoo_removal"]);
}

#[test]
fn age_range_must_be_ordered_and_consistent_with_minors() {
    let message = single_issue(&minimal().replace("maximum_age = 24", "maximum_age = 10"));
    assert!(message.contains("field minimum_age: 12 is above maximum_age 10"), "{message}");
    let message = single_issue(&minimal().replace("minimum_age = 12", "minimum_age = 18"));
    assert!(message.contains("field serves_minors: is true but minimum_age is 18"), "{message}");
    let message = single_issue(&minimal().replace("maximum_age = 24", "maximum_age = 150"));
    assert!(message.contains("field maximum_age: 150 is out of range"), "{message}");
}

#[test]
fn unknown_site_lists_the_sites() {
    let message = single_issue(&minimal().replace("site = \"countywide\"", "site = \"pasadena\""));
    assert!(message.contains("field service_areas[0].site: \"pasadena\" is not allowed"), "{message}");
    assert!(message.contains("allowed: south_los_angeles, san_fernando_valley, countywide"), "{message}");
}

#[test]
fn languages_must_be_iso_639_codes() {
    let message = single_issue(&minimal().replace("languages = [\"en\"]", "languages = [\"English\"]"));
    assert!(message.contains("field languages: \"English\" is not an ISO 639 code"), "{message}");
}

#[test]
fn capacity_is_required_and_bounded() {
    let message = single_issue(&minimal().replace("available = 1, maximum = 2", "available = 3, maximum = 2"));
    assert!(message.contains("field capacity[0].available: 3 is above maximum 2"), "{message}");
    let message = single_issue(&minimal().replace("unit = \"client\"", "unit = \"room\""));
    assert!(message.contains("capacity[0].unit: \"room\" is not allowed; allowed: bed, slot, client, appointment"));
    let no_capacity =
        minimal().replace("capacity = [{ unit = \"client\", available = 1, maximum = 2 }]", "capacity = []");
    assert!(single_issue(&no_capacity).contains("field capacity: must list at least one entry"));
}

#[test]
fn status_must_be_an_hsds_status() {
    let message =
        single_issue(&minimal().replace("name = \"Demo Service\"", "name = \"Demo Service\"\nstatus = \"open\""));
    assert!(message.contains("field status: \"open\" is not allowed; allowed: active, inactive"), "{message}");
}

#[test]
fn exactly_one_program_team() {
    let message = single_issue(&minimal().replace("program_team = true", "program_team = false"));
    assert!(message.contains("exactly one organization must be the program's own team"), "{message}");
}

#[test]
fn duplicate_ids_are_refused() {
    let document = format!("{}\n{}", minimal(), minimal().replace("program_team = true", ""));
    let issues = issues_of(&document);
    let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
    assert!(text.iter().any(|t| t.contains("duplicate organization id")), "{text:?}");
    assert!(text.iter().any(|t| t.contains("duplicate service id")), "{text:?}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let document = minimal()
        .replace("languages = [\"en\"]", "languages = [\"EN\"]")
        .replace("minimum_age = 12", "minimum_age = 40");
    assert_eq!(issues_of(&document).len(), 3); // language, min > max, serves_minors with adult minimum
}

#[test]
fn unknown_fields_are_refused_by_name() {
    let err = Directory::from_toml(&minimal().replace("languages =", "langauges =")).unwrap_err();
    assert!(matches!(err, DirectoryError::Parse(_)));
    assert!(err.to_string().contains("langauges"), "{err}");
}
