//! Missing episodes (DOMAIN.md: "count and days missing per 90 days"), folded from the case stage
//! changes active ⇄ missing. A youth's time in the program runs from intake to exit, or to the
//! as-of instant while the case is open; an episode still open at that point ends there.
//!
//! Disclosure: how many youth had none, one, or two or more episodes goes through
//! [`count_table`]; the pooled rates are shown only for groups of at least [`MIN_GROUP`] youth in
//! which the youth with an episode are none or at least [`MIN_GROUP`], so no rate describes
//! one to ten people.

use super::{MIN_GROUP, groups};
use crate::domain::dataset::YouthRow;
use crate::domain::table::{Cell, Output, Table, count_table};

pub const EPISODE_COLUMNS: [&str; 3] = ["no_episode", "one_episode", "two_or_more"];

/// Days from intake to exit, or to the as-of instant.
fn program_days(row: &YouthRow) -> f64 {
    row.exited_day.unwrap_or(row.observed_days).min(row.observed_days).max(0.0)
}

pub fn missing_episodes(rows: &[YouthRow], group_by: Option<&str>) -> Output {
    let grouped = groups(rows, group_by);
    let names: Vec<String> = grouped.keys().cloned().collect();
    let mut counts = Vec::with_capacity(names.len() * EPISODE_COLUMNS.len());
    let mut rates = Table::new(
        "missing_episodes_per_90_days",
        "Missing episodes and days missing per 90 days in the program",
        &[group_by.unwrap_or("group"), "episodes_per_90_days", "days_missing_per_90_days"],
    )
    .note("pooled rates: all episodes (or days missing) over all days in the program (intake to exit or the as-of date), × 90")
    .note(format!(
        "rates are withheld for groups of fewer than {MIN_GROUP} youth and where 1 to 10 youth had an episode"
    ));
    for (name, members) in grouped.iter() {
        let with = |n: usize| members.iter().filter(|r| r.missing_episodes.len() == n).count() as u64;
        let none = with(0);
        let one = with(1);
        let more = members.len() as u64 - none - one;
        counts.extend([none, one, more]);

        let youth_with_episode = one + more;
        let days: f64 = members.iter().map(|r| program_days(r)).sum();
        let episodes: usize = members.iter().map(|r| r.missing_episodes.len()).sum();
        // Folded from +0.0: an empty f64 sum is −0.0, which printed a rate of "-0.0".
        let missing_days = members
            .iter()
            .flat_map(|r| &r.missing_episodes)
            .map(|e| (e.end_day - e.start_day).max(0.0))
            .fold(0.0, |a, b| a + b);
        let publishable =
            members.len() >= MIN_GROUP && (youth_with_episode == 0 || youth_with_episode >= MIN_GROUP as u64);
        let mut row = vec![Cell::label(name.clone())];
        if !publishable {
            row.extend([Cell::suppressed(), Cell::suppressed()]);
        } else if days > 0.0 {
            row.push(Cell::number(90.0 * episodes as f64 / days, 2));
            row.push(Cell::number(90.0 * missing_days / days, 1));
        } else {
            row.extend([Cell::label("–"), Cell::label("–")]);
        }
        rates.rows.push(row);
    }
    let columns: Vec<String> = EPISODE_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    let youth = count_table(
        "missing_episodes_youth",
        "Youth by number of missing episodes",
        group_by.unwrap_or("group"),
        &names,
        &columns,
        &counts,
    )
    .note("an episode runs from the case moving to missing until it moves back (or closes)");
    Output { tables: vec![youth, rates], charts: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dataset::MissingEpisode;
    use crate::domain::testing::row;

    fn youth(i: usize, episodes: &[(f64, f64)]) -> YouthRow {
        let mut r = row(&format!("stu_{i}"));
        r.observed_days = 180.0;
        r.missing_episodes =
            episodes.iter().map(|&(start_day, end_day)| MissingEpisode { start_day, end_day }).collect();
        r
    }

    #[test]
    fn rates_pool_episodes_and_days_over_program_time() {
        // 20 youth, 180 days each (3,600 days); 12 with one 9-day episode, 8 with none.
        let rows: Vec<YouthRow> =
            (0..20).map(|i| if i < 12 { youth(i, &[(30.0, 39.0)]) } else { youth(i, &[]) }).collect();
        let output = missing_episodes(&rows, None);
        let rates = &output.tables[1];
        assert_eq!(rates.rows.len(), 1);
        // 12 episodes / 3600 days × 90 = 0.30; 108 days / 3600 × 90 = 2.7.
        assert_eq!(rates.rows[0][1].value, "0.30");
        assert_eq!(rates.rows[0][2].value, "2.7");
        // 8 youth without an episode is a small count: suppressed, with a complement.
        let youth = &output.tables[0];
        assert_eq!(youth.columns, ["group", "no_episode", "one_episode", "two_or_more", "total"]);
        assert!(youth.rows[0][1].suppressed);
        assert!(youth.suppressed_cells() >= 2, "{youth:?}");
    }

    #[test]
    fn no_episodes_is_a_rate_of_zero_without_a_sign() {
        let rows: Vec<YouthRow> = (0..20).map(|i| youth(i, &[])).collect();
        let rates = &missing_episodes(&rows, None).tables[1];
        assert_eq!((rates.rows[0][1].value.as_str(), rates.rows[0][2].value.as_str()), ("0.00", "0.0"));
    }

    #[test]
    fn rates_about_one_to_ten_youth_are_withheld() {
        // 30 youth, 3 with episodes: their rate would describe three people.
        let rows: Vec<YouthRow> =
            (0..30).map(|i| if i < 3 { youth(i, &[(10.0, 20.0), (50.0, 55.0)]) } else { youth(i, &[]) }).collect();
        let output = missing_episodes(&rows, None);
        assert!(output.tables[1].rows[0][1].suppressed && output.tables[1].rows[0][2].suppressed);
        for table in &output.tables {
            for row in &table.rows {
                for cell in row.iter().skip(1) {
                    if let (Some(n), "missing_episodes_youth") = (cell.number, table.name.as_str()) {
                        assert!(n == 0.0 || n >= 11.0, "{row:?}");
                    }
                }
            }
        }
        // A small group gets no rate either, even with no episodes.
        let few: Vec<YouthRow> = (0..5).map(|i| youth(i, &[])).collect();
        assert!(missing_episodes(&few, None).tables[1].rows[0][1].suppressed);
    }
}
