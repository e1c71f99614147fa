//! Reading the analyst's CSV: named columns, every value checked, and errors that
//! say which column and which line of the file is wrong.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};

/// The CSV, kept as text until a column is asked for in the type the analysis needs.
#[derive(Debug)]
pub struct CsvTable {
    file: String,
    header: Vec<String>,
    index: HashMap<String, usize>,
    rows: Vec<Vec<String>>,
    /// File line of each data row (the header is line 1).
    lines: Vec<u64>,
}

impl CsvTable {
    pub fn read(path: &Path) -> anyhow::Result<CsvTable> {
        let file = path.display().to_string();
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .with_context(|| format!("reading {file}"))?;
        let header: Vec<String> = reader
            .headers()
            .with_context(|| format!("reading the header line of {file}"))?
            .iter()
            .map(str::to_owned)
            .collect();
        let mut index = HashMap::new();
        for (i, name) in header.iter().enumerate() {
            if index.insert(name.clone(), i).is_some() {
                bail!("{file}: column \"{name}\" appears more than once in the header");
            }
        }
        let (mut rows, mut lines) = (Vec::new(), Vec::new());
        for record in reader.records() {
            let record = record.with_context(|| format!("reading {file}"))?;
            let line = record.position().map_or(0, |p| p.line());
            rows.push(record.iter().map(str::to_owned).collect());
            lines.push(line);
        }
        if rows.is_empty() {
            bail!("{file} has a header but no data rows");
        }
        Ok(CsvTable { file, header, index, rows, lines })
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    fn position(&self, column: &str) -> anyhow::Result<usize> {
        self.index.get(column).copied().ok_or_else(|| {
            anyhow::anyhow!("{}: there is no column \"{column}\" (columns: {})", self.file, self.header.join(", "))
        })
    }

    /// Each cell of a column, checked by `parse` in file order, so the first bad line is the one named.
    fn cells<T>(&self, column: &str, parse: impl Fn(&str) -> Result<T, String>) -> anyhow::Result<Vec<T>> {
        let c = self.position(column)?;
        self.rows
            .iter()
            .enumerate()
            .map(|(row, r)| match r[c].as_str() {
                "" => bail!(
                    "{}: line {}, column \"{column}\" is empty; every row needs a value",
                    self.file,
                    self.lines[row]
                ),
                v => parse(v).map_err(|why| {
                    anyhow::anyhow!("{}: line {}, column \"{column}\": {why}", self.file, self.lines[row])
                }),
            })
            .collect()
    }

    pub fn text(&self, column: &str) -> anyhow::Result<Vec<String>> {
        self.cells(column, |v| Ok(v.to_owned()))
    }

    pub fn numbers(&self, column: &str) -> anyhow::Result<Vec<f64>> {
        self.cells(column, |v| match v.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n),
            _ => Err(format!("\"{v}\" is not a finite number")),
        })
    }

    /// A 0/1 column (also accepts true/false).
    pub fn flags(&self, column: &str) -> anyhow::Result<Vec<bool>> {
        self.cells(column, |v| match v.to_ascii_lowercase().as_str() {
            "1" | "1.0" | "true" => Ok(true),
            "0" | "0.0" | "false" => Ok(false),
            _ => Err(format!("\"{v}\" is not 0 or 1")),
        })
    }

    /// Event kinds: 0 for censored, a positive whole number naming the kind of event.
    pub fn kinds(&self, column: &str) -> anyhow::Result<Vec<u32>> {
        self.cells(column, |v| match v.parse::<f64>() {
            Ok(n) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => Ok(n as u32),
            _ => Err(format!("\"{v}\" is not an event kind: use 0 for censored and 1, 2, … for the kinds of event")),
        })
    }

    /// Several numeric columns as an n × p row-major block.
    pub fn matrix(&self, columns: &[String]) -> anyhow::Result<Vec<f64>> {
        let cols = columns.iter().map(|c| self.numbers(c)).collect::<anyhow::Result<Vec<_>>>()?;
        Ok((0..self.len()).flat_map(|i| cols.iter().map(move |c| c[i])).collect())
    }

    pub fn file(&self) -> &str {
        &self.file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> (tempfile::TempDir, CsvTable) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.csv");
        std::fs::write(&path, text).unwrap();
        let table = CsvTable::read(&path).unwrap();
        (dir, table)
    }

    #[test]
    fn errors_name_the_column_and_the_line() {
        let (_dir, t) = table("time,event,age\n1,1,20\n2,2,x\n3,0,\n");
        let err = t.numbers("weight").unwrap_err().to_string();
        assert!(err.ends_with("there is no column \"weight\" (columns: time, event, age)"), "{err}");
        let err = t.flags("event").unwrap_err().to_string();
        assert!(err.ends_with("line 3, column \"event\": \"2\" is not 0 or 1"), "{err}");
        let err = t.numbers("age").unwrap_err().to_string();
        assert!(err.ends_with("line 3, column \"age\": \"x\" is not a finite number"), "{err}");
        assert_eq!(t.numbers("time").unwrap(), vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn empty_cells_are_errors_not_dropped_rows() {
        let (_dir, t) = table("time,event,age\n1,1,20\n3,0,\n");
        let err = t.numbers("age").unwrap_err().to_string();
        assert!(err.ends_with("line 3, column \"age\" is empty; every row needs a value"), "{err}");
    }
}
