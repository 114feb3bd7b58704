//! Message envelopes for proxies: read and rewrite the header of a message (method name,
//! message type, seqid) without decoding, or even reading, the payload after it.
//!
//! A Thrift message is a header followed by one struct (the arguments, the result or an
//! `ApplicationException`). The header comes in three encodings: Binary strict
//! (`0x8001_00TT`, name, seqid), Binary non-strict (name, type byte, seqid: old clients) and
//! Compact (`0x82`, version and type, seqid as a varint, name). [`Envelope::parse`] reads it
//! and says where the payload starts; [`rewrite`] builds a new header and copies the payload
//! once; [`rewrite_bytes_mut`] reuses the buffer when the new header is not longer than the
//! old one; [`patch_seqid`] changes the seqid in place.
//!
//! The payload is never validated here: it is whatever follows the header. Converting the
//! payload to another protocol is `dynthrift::wire::transcode`'s job.

use bytes::{Buf, BytesMut};
use dynthrift_core::wire::binary::BinaryReader;
use dynthrift_core::wire::compact::{self, CompactReader};
use dynthrift_core::wire::{ProtoRead, Protocol};
use dynthrift_core::{Error, ErrorKind, Result, TMessageType};

/// How a header is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Binary protocol, strict header (version word first): what current clients write.
    BinaryStrict,
    /// Binary protocol, old header (name first, then a type byte).
    BinaryNonStrict,
    /// Compact protocol.
    Compact,
}

impl Format {
    /// The protocol of the payload.
    pub fn protocol(self) -> Protocol {
        match self {
            Format::BinaryStrict | Format::BinaryNonStrict => Protocol::Binary,
            Format::Compact => Protocol::Compact,
        }
    }
}

/// A parsed message header, borrowing the name from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub name: &'a str,
    pub kind: TMessageType,
    pub seqid: i32,
    pub format: Format,
    /// Length of the header: the payload starts at this offset.
    pub payload_offset: usize,
}

impl<'a> Envelope<'a> {
    /// Reads the header at the start of `bytes` (Binary: strict or non-strict, told apart by
    /// the first byte).
    pub fn parse(bytes: &'a [u8], protocol: Protocol) -> Result<Envelope<'a>> {
        match protocol {
            Protocol::Binary => {
                let format = match bytes.first() {
                    Some(b) if b & 0x80 != 0 => Format::BinaryStrict,
                    _ => Format::BinaryNonStrict,
                };
                let mut r = BinaryReader::new(bytes);
                let h = r.read_message_begin()?;
                Ok(Envelope {
                    name: h.name,
                    kind: h.kind,
                    seqid: h.seqid,
                    format,
                    payload_offset: r.position(),
                })
            }
            Protocol::Compact => {
                let mut r = CompactReader::new(bytes);
                let h = r.read_message_begin()?;
                Ok(Envelope {
                    name: h.name,
                    kind: h.kind,
                    seqid: h.seqid,
                    format: Format::Compact,
                    payload_offset: r.position(),
                })
            }
        }
    }

    /// Reads a header of any format, recognising the protocol from the first byte (`0x82`:
    /// Compact; `0x80`: Binary strict; anything else: Binary non-strict, whose first byte is
    /// the high byte of the name's length).
    pub fn detect(bytes: &'a [u8]) -> Result<Envelope<'a>> {
        match bytes.first() {
            Some(&compact::PROTOCOL_ID) => Envelope::parse(bytes, Protocol::Compact),
            _ => Envelope::parse(bytes, Protocol::Binary),
        }
    }

    /// The payload: everything after the header, in `bytes` (the slice this was parsed from).
    pub fn payload<'b>(&self, bytes: &'b [u8]) -> &'b [u8] {
        bytes.get(self.payload_offset..).unwrap_or(&[])
    }

    /// An owned copy of the editable parts.
    pub fn to_header(&self) -> Header {
        Header {
            name: self.name.to_owned(),
            kind: self.kind,
            seqid: self.seqid,
            format: self.format,
        }
    }
}

/// An owned header, as [`rewrite`] hands it to the edit closure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub kind: TMessageType,
    pub seqid: i32,
    /// May switch between the two Binary forms; a switch between Binary and Compact is an
    /// error (the payload would stay in the old protocol).
    pub format: Format,
}

impl Header {
    /// Appends the encoded header to `out`.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<()> {
        let name_len = i32::try_from(self.name.len()).map_err(|_| {
            Error::encode(
                ErrorKind::InvalidValue,
                format!("message name of {} bytes is too long", self.name.len()),
            )
        })?;
        match self.format {
            Format::BinaryStrict => {
                out.extend_from_slice(
                    &(dynthrift_core::wire::binary::VERSION_1 | self.kind as u32).to_be_bytes(),
                );
                out.extend_from_slice(&name_len.to_be_bytes());
                out.extend_from_slice(self.name.as_bytes());
                out.extend_from_slice(&self.seqid.to_be_bytes());
            }
            Format::BinaryNonStrict => {
                out.extend_from_slice(&name_len.to_be_bytes());
                out.extend_from_slice(self.name.as_bytes());
                out.push(self.kind as u8);
                out.extend_from_slice(&self.seqid.to_be_bytes());
            }
            Format::Compact => {
                out.push(compact::PROTOCOL_ID);
                out.push(compact::VERSION | ((self.kind as u8) << 5));
                put_varint(out, self.seqid as u32 as u64);
                put_varint(out, self.name.len() as u64);
                out.extend_from_slice(self.name.as_bytes());
            }
        }
        Ok(())
    }

    /// Length of the encoded header.
    pub fn encoded_len(&self) -> usize {
        let n = self.name.len();
        match self.format {
            Format::BinaryStrict => 4 + 4 + n + 4,
            Format::BinaryNonStrict => 4 + n + 1 + 4,
            Format::Compact => {
                2 + compact::varint_len(self.seqid as u32 as u64)
                    + compact::varint_len(n as u64)
                    + n
            }
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Parses the header, lets `edit` change it, and returns the new header followed by the
/// unchanged payload (one copy of the payload, no decoding of it).
pub fn rewrite(
    bytes: &[u8],
    protocol: Protocol,
    edit: impl FnOnce(&mut Header),
) -> Result<Vec<u8>> {
    let env = Envelope::parse(bytes, protocol)?;
    let header = edited(&env, edit)?;
    let payload = env.payload(bytes);
    let mut out = Vec::with_capacity(header.encoded_len() + payload.len());
    header.write(&mut out)?;
    out.extend_from_slice(payload);
    Ok(out)
}

/// Like [`rewrite`], on a `BytesMut` in place: when the new header is not longer than the old
/// one it is written just before the payload and the buffer's start advances (no copy of the
/// payload); otherwise the buffer is rebuilt. Returns the new header.
pub fn rewrite_bytes_mut(
    buf: &mut BytesMut,
    protocol: Protocol,
    edit: impl FnOnce(&mut Header),
) -> Result<Header> {
    let (header, old_len) = {
        let env = Envelope::parse(buf, protocol)?;
        (edited(&env, edit)?, env.payload_offset)
    };
    let mut encoded = Vec::with_capacity(header.encoded_len());
    header.write(&mut encoded)?;
    if encoded.len() <= old_len {
        let start = old_len - encoded.len();
        buf[start..old_len].copy_from_slice(&encoded);
        buf.advance(start);
    } else {
        let mut out = BytesMut::with_capacity(encoded.len() + buf.len() - old_len);
        out.extend_from_slice(&encoded);
        out.extend_from_slice(&buf[old_len..]);
        *buf = out;
    }
    Ok(header)
}

fn edited(env: &Envelope<'_>, edit: impl FnOnce(&mut Header)) -> Result<Header> {
    let mut header = env.to_header();
    edit(&mut header);
    if header.format.protocol() != env.format.protocol() {
        return Err(Error::encode(
            ErrorKind::InvalidValue,
            format!(
                "cannot change a {:?} header to {:?}: the payload would keep its protocol",
                env.format, header.format
            ),
        ));
    }
    Ok(header)
}

/// Replaces the seqid of the message in `bytes` in place. Binary: always possible (4 fixed
/// bytes). Compact: the seqid is a varint; a new value that needs fewer bytes than the old
/// one is written in the old width with continuation bytes (a valid, non-minimal varint
/// that every reader accepts); one that needs more bytes is an error (use [`rewrite`]).
pub fn patch_seqid(bytes: &mut [u8], protocol: Protocol, seqid: i32) -> Result<()> {
    let (format, end) = {
        let env = Envelope::parse(bytes, protocol)?;
        (env.format, env.payload_offset)
    };
    match format {
        Format::BinaryStrict | Format::BinaryNonStrict => {
            // Both Binary forms end with the seqid's four bytes.
            bytes[end - 4..end].copy_from_slice(&seqid.to_be_bytes());
        }
        Format::Compact => {
            // Protocol id, version/type, then the seqid varint.
            let start = 2;
            let old = bytes[start..]
                .iter()
                .position(|b| b & 0x80 == 0)
                .map(|i| i + 1)
                .ok_or_else(|| Error::decode(ErrorKind::UnexpectedEof, start, ""))?;
            let v = seqid as u32 as u64;
            let need = compact::varint_len(v);
            if need > old {
                return Err(Error::encode(
                    ErrorKind::InvalidValue,
                    format!(
                        "seqid {seqid} needs {need} varint bytes, the header has {old}: rewrite the header"
                    ),
                ));
            }
            let mut rest = v;
            for i in 0..old {
                let last = i + 1 == old;
                let b = (rest & 0x7f) as u8;
                rest >>= 7;
                bytes[start + i] = if last { b } else { b | 0x80 };
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_varint_reads_back() {
        let h = Header {
            name: "ping".into(),
            kind: TMessageType::Call,
            seqid: 300,
            format: Format::Compact,
        };
        let mut out = Vec::new();
        h.write(&mut out).unwrap();
        out.push(0);
        patch_seqid(&mut out, Protocol::Compact, 5).unwrap();
        let e = Envelope::parse(&out, Protocol::Compact).unwrap();
        assert_eq!((e.name, e.seqid), ("ping", 5));
        assert_eq!(e.payload(&out), &[0]);
    }
}
