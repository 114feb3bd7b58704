//! Reading input (a file or standard input), splitting it into frames, writing output, and the
//! progress bar (on standard error, only when it is a terminal and the input is long).

use std::io::{IsTerminal, Read, Write};
use std::path::Path;

use crate::{CliError, Result, msg};

pub struct Input {
    pub bytes: Vec<u8>,
}

impl Input {
    pub fn read(path: Option<&Path>) -> Result<Input> {
        let mut bytes = Vec::new();
        match path {
            Some(p) if p != Path::new("-") => {
                bytes = std::fs::read(p).map_err(|e| msg(format!("{}: {e}", p.display())))?;
            }
            _ => {
                std::io::stdin().lock().read_to_end(&mut bytes)?;
            }
        }
        Ok(Input { bytes })
    }

    /// The units to process: the whole input, or each frame of a framed stream, as
    /// `(offset of the unit in the input, bytes)`.
    pub fn units(&self, framed: bool) -> Box<dyn Iterator<Item = Result<(usize, &[u8])>> + '_> {
        if !framed {
            return Box::new(std::iter::once(Ok((0, &self.bytes[..]))));
        }
        let b = &self.bytes[..];
        let mut at = 0usize;
        let mut n = 0usize;
        let mut failed = false;
        Box::new(std::iter::from_fn(move || {
            if at >= b.len() || failed {
                return None;
            }
            let frame = n;
            n += 1;
            let Some(head) = b.get(at..at + 4) else {
                failed = true;
                return Some(Err(msg(format!(
                    "frame {frame} (at offset {at}): the input ends inside the 4-byte frame length"
                ))));
            };
            let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
            let start = at + 4;
            if len > b.len() - start {
                failed = true;
                return Some(Err(msg(format!(
                    "frame {frame} (at offset {at}): declares {len} bytes but only {} remain",
                    b.len() - start
                ))));
            }
            at = start + len;
            Some(Ok((start, &b[start..start + len])))
        }))
    }
}

pub fn write_output(path: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match path {
        Some(p) if p != Path::new("-") => {
            std::fs::write(p, bytes).map_err(|e| msg(format!("{}: {e}", p.display())))
        }
        _ => {
            let mut out = std::io::stdout().lock();
            if out.is_terminal() {
                return Err(msg(
                    "refusing to write binary data to a terminal: use -o FILE or redirect the output",
                ));
            }
            out.write_all(bytes)?;
            out.flush().map_err(CliError::from)
        }
    }
}

/// A byte-count progress bar for long streams; does nothing unless standard error is a
/// terminal and the input is over 8 MiB. `DYNTHRIFT_PROGRESS=always` forces it, drawn as
/// plain lines (for logs, and the tests); `DYNTHRIFT_PROGRESS=never` turns it off.
pub struct Progress(Option<(indicatif::ProgressBar, bool)>);

impl Progress {
    pub fn new(total: u64, stream: bool) -> Progress {
        let setting = std::env::var("DYNTHRIFT_PROGRESS").unwrap_or_default();
        let forced = setting == "always";
        if setting == "never"
            || !stream
            || (!forced && (total < 8 << 20 || !std::io::stderr().is_terminal()))
        {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new(total);
        if forced {
            bar.set_draw_target(indicatif::ProgressDrawTarget::term_like(Box::new(
                PlainStderr,
            )));
        }
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style);
        }
        Progress(Some((bar, forced)))
    }

    pub fn set(&self, pos: u64) {
        if let Some((b, _)) = &self.0 {
            b.set_position(pos);
        }
    }

    pub fn finish(&self) {
        match &self.0 {
            // Forced: the final state stays in the log.
            Some((b, true)) => b.finish(),
            Some((b, false)) => b.finish_and_clear(),
            None => {}
        }
    }
}

/// Standard error without cursor movement: each redraw is a new line.
#[derive(Debug)]
struct PlainStderr;

impl indicatif::TermLike for PlainStderr {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        writeln!(std::io::stderr(), "{}", s.trim_end())
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        match s.trim_end() {
            "" => Ok(()),
            line => writeln!(std::io::stderr(), "{line}"),
        }
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
