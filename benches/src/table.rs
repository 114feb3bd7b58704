//! Markdown tables for the report, padded so that they also read well as plain text.

/// A markdown table: a header row, then rows of cells. Columns after the first two are
/// right-aligned (they hold numbers).
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Table {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let mut cells: Vec<String> = cells.into_iter().map(Into::into).collect();
        cells.resize(self.header.len(), String::new());
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let width = |i: usize| {
            std::iter::once(&self.header)
                .chain(&self.rows)
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(3)
        };
        let widths: Vec<usize> = (0..self.header.len()).map(width).collect();
        let line = |cells: &[String]| {
            let mut s = String::from("|");
            for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
                if i < 2 {
                    s += &format!(" {c:<w$} |");
                } else {
                    s += &format!(" {c:>w$} |");
                }
            }
            s + "\n"
        };
        let mut out = line(&self.header);
        out += "|";
        for (i, w) in widths.iter().enumerate() {
            let dashes = "-".repeat(*w);
            out += &if i < 2 {
                format!(" {dashes} |")
            } else {
                format!(" {}: |", &dashes[1..])
            };
        }
        out += "\n";
        for r in &self.rows {
            out += &line(r);
        }
        out
    }
}

/// A duration in nanoseconds, with three significant digits and a unit.
pub fn time(ns: f64) -> String {
    let (v, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else {
        (ns / 1e6, "ms")
    };
    let digits = if v < 10.0 {
        2
    } else if v < 100.0 {
        1
    } else {
        0
    };
    format!("{v:.digits$} {unit}")
}

/// `a / b` as "0.85×", or "—" when there is no `b`.
pub fn ratio(a: f64, b: Option<f64>) -> String {
    match b {
        Some(b) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "—".to_string(),
    }
}

/// Bytes per second from a size and a time per operation, as MB/s (10^6 bytes).
pub fn throughput(bytes: usize, ns: f64) -> String {
    format!("{:.0}", bytes as f64 / ns * 1e3)
}
