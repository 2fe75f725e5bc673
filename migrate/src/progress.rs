//! Progress: a bar on a terminal (keys, bytes, keys/s, ETA), a plain line every few seconds
//! otherwise, nothing with --quiet.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

const LINE_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    bar: Option<ProgressBar>,
    lines: bool,
    started: Instant,
    last_line: Instant,
    /// Total keys, or file bytes (`true`).
    total: Option<(u64, bool)>,
}

impl Progress {
    pub fn new(quiet: bool, total: Option<(u64, bool)>) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let bar = match total {
                Some((n, _)) => ProgressBar::new(n),
                None => ProgressBar::no_length(),
            };
            let unit = if total.is_some_and(|t| t.1) {
                "{bytes}/{total_bytes}"
            } else {
                "{pos}/{len}"
            };
            let style = ProgressStyle::with_template(&format!(
                "{{elapsed_precise}} [{{wide_bar}}] {unit} {{msg}} ETA {{eta}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            lines: !quiet && !terminal,
            started: Instant::now(),
            last_line: Instant::now(),
            total,
        }
    }

    pub fn update(&mut self, keys: u64, bytes: u64, failed: u64, source_bytes: u64) {
        let secs = self.started.elapsed().as_secs_f64().max(1e-6);
        let rate = keys as f64 / secs;
        let msg = format!(
            "{keys} keys{}, {:.1} MB, {rate:.0} keys/s",
            if failed > 0 {
                format!(" ({failed} failed)")
            } else {
                String::new()
            },
            bytes as f64 / 1e6
        );
        let pos = match self.total {
            Some((_, true)) => source_bytes,
            _ => keys,
        };
        if let Some(bar) = &self.bar {
            bar.set_position(pos);
            bar.set_message(msg);
        } else if self.lines && self.last_line.elapsed() >= LINE_EVERY {
            self.last_line = Instant::now();
            let pct = match self.total {
                Some((n, _)) if n > 0 => format!(", {:.0}%", 100.0 * pos as f64 / n as f64),
                _ => String::new(),
            };
            eprintln!("restore-migrate: {msg}{pct}");
        }
    }

    /// A line that does not garble the bar.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
