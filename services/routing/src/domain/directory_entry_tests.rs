use super::*;

use crate::domain::Directory;

fn capacity(units: &[(&str, i32, i32)]) -> Vec<pb::Capacity> {
    units
        .iter()
        .map(|(unit, available, maximum)| pb::Capacity {
            unit: (*unit).into(),
            available: *available,
            maximum: *maximum,
            updated: None,
        })
        .collect()
}

fn available(capacity: &[pb::Capacity]) -> Vec<i32> {
    capacity.iter().map(|c| c.available).collect()
}

#[test]
fn the_demo_directory_round_trips_through_its_entries() {
    let demo = Directory::demo().unwrap();
    let entries = DirectoryEntries::from_directory(&demo);
    assert_eq!(entries.organizations.len(), 10);
    assert_eq!(entries.routing_view(), demo);
}

#[test]
fn organization_sites_come_from_its_services() {
    let demo = Directory::demo().unwrap();
    let entries = DirectoryEntries::from_directory(&demo);
    for org in &demo.organizations {
        let entry = entries.organization(org.id.as_str()).unwrap();
        assert_eq!(entry.sites(), org.sites());
        let shown = entry.with_sites();
        assert_eq!(shown.sites, org.sites().into_iter().map(|s| s as i32).collect::<Vec<_>>());
    }
}

#[test]
fn taken_places_come_off_the_units_in_order() {
    let units = capacity(&[("bed", 2, 4), ("slot", 3, 6)]);
    assert_eq!(capacity_totals(&units), (5, 10));
    assert_eq!(available(&with_open_places(&units, 5)), vec![2, 3]);
    assert_eq!(available(&with_open_places(&units, 4)), vec![1, 3]);
    assert_eq!(available(&with_open_places(&units, 1)), vec![0, 1]);
    assert_eq!(available(&with_open_places(&units, 0)), vec![0, 0]);
}

#[test]
fn returned_places_never_exceed_a_units_maximum() {
    let units = capacity(&[("bed", 2, 4), ("slot", 3, 6)]);
    assert_eq!(available(&with_open_places(&units, 7)), vec![4, 3]);
    assert_eq!(available(&with_open_places(&units, 50)), vec![4, 6]);
}
