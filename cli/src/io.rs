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
/// terminal and the input is over 8 MiB.
pub struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    pub fn new(total: u64, stream: bool) -> Progress {
        if !stream || total < 8 << 20 || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style);
        }
        Progress(Some(bar))
    }

    pub fn set(&self, pos: u64) {
        if let Some(b) = &self.0 {
            b.set_position(pos);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
