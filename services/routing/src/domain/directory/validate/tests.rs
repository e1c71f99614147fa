use super::*;

const ORG: &str = "org_37500f7421c4437980c5cff292270a56";
const SVC: &str = "svc_589f1abfe2c84ee69379e35009a718c6";

fn organization() -> pb::Organization {
    pb::Organization {
        organization_id: ORG.into(),
        name: "Demo Org".into(),
        description: "fictional".into(),
        website: "https://example.org".into(),
        email: "intake@example.org".into(),
        phones: vec![pb::DirectoryPhone {
            number: "+1-555-0100".into(),
            r#type: "voice".into(),
            description: String::new(),
        }],
        ..Default::default()
    }
}

fn service() -> pb::PartnerService {
    pb::PartnerService {
        partner_service_id: SVC.into(),
        organization_id: ORG.into(),
        name: "Demo Service".into(),
        status: pb::ServiceStatus::Active as i32,
        service_types: vec!["emergency_shelter".into()],
        minimum_age: 12,
        maximum_age: 24,
        serves_minors: true,
        service_areas: vec![pb::ServiceArea {
            name: "South Los Angeles".into(),
            site: Site::SouthLosAngeles as i32,
            postal_codes: vec!["90011".into()],
            ..Default::default()
        }],
        languages: vec!["en".into(), "es".into()],
        capacity: vec![pb::Capacity { unit: "bed".into(), available: 3, maximum: 8, updated: None }],
        ..Default::default()
    }
}

fn fields(issues: &[EntryIssue]) -> Vec<&str> {
    issues.iter().map(|i| i.field.as_str()).collect()
}

#[test]
fn valid_records_pass() {
    assert_eq!(validate_organization(&organization(), "organization", true), vec![]);
    assert_eq!(validate_service(&service(), "partner_service", true), vec![]);
}

#[test]
fn an_empty_id_is_allowed_only_on_create() {
    let org = pb::Organization { organization_id: String::new(), ..organization() };
    assert!(validate_organization(&org, "organization", false).is_empty());
    assert_eq!(fields(&validate_organization(&org, "organization", true)), vec!["organization.organization_id"]);
    let svc = pb::PartnerService { partner_service_id: String::new(), ..service() };
    assert!(validate_service(&svc, "", false).is_empty());
    assert_eq!(fields(&validate_service(&svc, "", true)), vec!["partner_service_id"]);
}

#[test]
fn organization_problems_each_name_their_field() {
    let org = pb::Organization {
        name: " ".into(),
        description: String::new(),
        website: "example.org".into(),
        email: "not-an-address".into(),
        phones: vec![pb::DirectoryPhone {
            number: "call us".into(),
            r#type: "pigeon".into(),
            description: String::new(),
        }],
        ..organization()
    };
    let issues = validate_organization(&org, "organization", true);
    assert_eq!(
        fields(&issues),
        vec![
            "organization.name",
            "organization.description",
            "organization.website",
            "organization.email",
            "organization.phones[0].number",
            "organization.phones[0].type",
        ]
    );
    assert!(issues[5].message.contains("allowed: voice, fax"), "{}", issues[5].message);
}

#[test]
fn service_types_come_from_the_shared_list() {
    let svc = pb::PartnerService {
        service_types: vec!["emergency_shelter".into(), "astrology".into(), "emergency_shelter".into()],
        ..service()
    };
    let issues = validate_service(&svc, "partner_service", true);
    assert_eq!(fields(&issues), vec!["partner_service.service_types[1]", "partner_service.service_types[2]"]);
    assert!(
        issues[0].message.contains("\"astrology\" is not a known service type; allowed: intensive_case_management")
    );
    assert!(issues[1].message.contains("listed twice"));
    let none = pb::PartnerService { service_types: vec![], ..service() };
    assert_eq!(fields(&validate_service(&none, "", true)), vec!["service_types"]);
}

#[test]
fn ages_are_within_0_to_130_and_min_is_at_most_max() {
    let reversed = pb::PartnerService { minimum_age: 20, maximum_age: 16, serves_minors: false, ..service() };
    let issues = validate_service(&reversed, "", true);
    assert_eq!(fields(&issues), vec!["minimum_age", "serves_minors"]);
    assert!(issues[0].message.contains("20 is above maximum_age 16"));
    let out_of_range = pb::PartnerService { minimum_age: -1, maximum_age: 131, ..service() };
    let issues = validate_service(&out_of_range, "", true);
    assert_eq!(fields(&issues), vec!["minimum_age", "maximum_age"]);
    assert!(issues[1].message.contains("131 is out of range; allowed 0 (no limit) to 130"));
    let boundary = pb::PartnerService { minimum_age: 0, maximum_age: 130, ..service() };
    assert!(validate_service(&boundary, "", true).is_empty());
    let adults_claiming_minors = pb::PartnerService { minimum_age: 18, maximum_age: 24, ..service() };
    assert_eq!(fields(&validate_service(&adults_claiming_minors, "", true)), vec!["serves_minors"]);
}

#[test]
fn areas_need_a_pilot_site_and_zip_codes() {
    let svc = pb::PartnerService {
        service_areas: vec![pb::ServiceArea {
            name: String::new(),
            site: Site::Unspecified as i32,
            postal_codes: vec!["9001".into()],
            extent_geojson: "[1,2]".into(),
        }],
        ..service()
    };
    let issues = validate_service(&svc, "", true);
    assert_eq!(
        fields(&issues),
        vec![
            "service_areas[0].name",
            "service_areas[0].site",
            "service_areas[0].postal_codes[0]",
            "service_areas[0].extent_geojson"
        ]
    );
    assert!(issues[1].message.contains("SITE_SOUTH_LOS_ANGELES, SITE_SAN_FERNANDO_VALLEY, SITE_COUNTYWIDE"));
    let no_area = pb::PartnerService { service_areas: vec![], ..service() };
    assert_eq!(fields(&validate_service(&no_area, "", true)), vec!["service_areas"]);
}

#[test]
fn languages_are_lowercase_iso_639_codes() {
    let svc =
        pb::PartnerService { languages: vec!["ES".into(), "english".into(), "en".into(), "en".into()], ..service() };
    let issues = validate_service(&svc, "", true);
    assert_eq!(fields(&issues), vec!["languages[0]", "languages[1]", "languages[3]"]);
    let none = pb::PartnerService { languages: vec![], ..service() };
    assert_eq!(fields(&validate_service(&none, "", true)), vec!["languages"]);
}

#[test]
fn capacity_stays_between_zero_and_the_maximum() {
    let over = pb::Capacity { unit: "bed".into(), available: 9, maximum: 8, updated: None };
    let issues = validate_capacity(&over, "capacity");
    assert_eq!(fields(&issues), vec!["capacity.available"]);
    assert!(issues[0].message.contains("9 is above maximum 8; allowed 0 to 8"));
    let negative = pb::Capacity { unit: "seat".into(), available: -1, maximum: -2, updated: None };
    assert_eq!(fields(&validate_capacity(&negative, "")), vec!["unit", "maximum", "available"]);
    let full = pb::Capacity { unit: "slot".into(), available: 8, maximum: 8, updated: None };
    assert!(validate_capacity(&full, "").is_empty());
    let twice = pb::PartnerService {
        capacity: vec![
            pb::Capacity { unit: "bed".into(), available: 1, maximum: 2, updated: None },
            pb::Capacity { unit: "bed".into(), available: 1, maximum: 2, updated: None },
        ],
        ..service()
    };
    assert_eq!(fields(&validate_service(&twice, "s", true)), vec!["s.capacity[1].unit"]);
}

#[test]
fn emergent_tier_needs_a_24_7_responder() {
    let svc =
        pb::PartnerService { accepted_tiers: vec![TriageTier::Emergent as i32, 0], available_24_7: false, ..service() };
    let issues = validate_service(&svc, "", true);
    assert_eq!(fields(&issues), vec!["accepted_tiers[0]", "accepted_tiers[1]"]);
    let staffed =
        pb::PartnerService { accepted_tiers: vec![TriageTier::Emergent as i32], available_24_7: true, ..service() };
    assert!(validate_service(&staffed, "", true).is_empty());
}

#[test]
fn locations_follow_hsds_address_rules() {
    let svc = pb::PartnerService {
        locations: vec![
            pb::Location {
                location_type: pb::LocationType::Physical as i32,
                address_1: "1 Demo St".into(),
                country: "usa".into(),
                ..Default::default()
            },
            pb::Location { location_type: pb::LocationType::Virtual as i32, ..Default::default() },
            pb::Location { location_type: 0, latitude: 91.0, ..Default::default() },
        ],
        ..service()
    };
    let issues = validate_service(&svc, "", true);
    assert_eq!(
        fields(&issues),
        vec![
            "locations[0].city",
            "locations[0].state_province",
            "locations[0].postal_code",
            "locations[0].country",
            "locations[1].url",
            "locations[2].location_type",
            "locations[2].latitude",
        ]
    );
    assert!(issues[3].message.contains("ISO 3166-1 alpha-2"));
}

#[test]
fn status_and_offer_window_have_allowed_values() {
    let svc = pb::PartnerService { status: 0, offer_response_hours: 169, ..service() };
    let issues = validate_service(&svc, "", true);
    assert_eq!(fields(&issues), vec!["status", "offer_response_hours"]);
    assert!(issues[0].message.contains("SERVICE_STATUS_ACTIVE"));
}
