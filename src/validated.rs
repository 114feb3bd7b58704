//! [`ValidatedCodec<T>`]: a [`Codec`] whose encode and decode also check the `vt.*` rules of
//! an IDL struct (see [`crate::validate`]). Derived Rust types carry no validation rules of
//! their own, so the rules come from the IDL type the Rust type corresponds to; the two are
//! compared (ids and wire types) when the wrapper is built.
//!
//! Decoding checks the bytes before building the value (an invalid message allocates
//! nothing); encoding checks the bytes it produced before handing them out.

use std::sync::Arc;

use bytes::Bytes;
use dynthrift_core::desc::Describe;
use dynthrift_core::schema::StructId;
use dynthrift_core::wire::{MessageHeader, Protocol};
use dynthrift_core::{Error, Result, Schema, TMessageType};
use dynthrift_generic::validate::Validator;

use crate::codec::{Codec, read_message_header};

/// A [`Codec`] with validation on encode and decode.
#[derive(Debug)]
pub struct ValidatedCodec<T> {
    codec: Codec<T>,
    validator: Arc<Validator>,
    root: StructId,
}

impl<T> Clone for ValidatedCodec<T> {
    fn clone(&self) -> Self {
        ValidatedCodec {
            codec: self.codec.clone(),
            validator: self.validator.clone(),
            root: self.root,
        }
    }
}

impl<T: Describe> ValidatedCodec<T> {
    /// Wraps `codec`, validating `T` as the struct `name` of `schema` with `validator` (built
    /// from the same schema). Fails when `T` and the IDL struct disagree on field ids or wire
    /// types.
    pub fn new(
        codec: Codec<T>,
        schema: &Schema,
        name: &str,
        validator: Arc<Validator>,
    ) -> Result<ValidatedCodec<T>> {
        let root = schema.expect_struct(name)?;
        let mismatches = codec.check_against(schema, name)?;
        if !mismatches.is_empty() {
            let list: Vec<String> = mismatches.iter().map(|m| m.to_string()).collect();
            return Err(Error::schema(format!(
                "the Rust type does not match IDL struct {name}: {}",
                list.join("; ")
            )));
        }
        Ok(ValidatedCodec {
            codec,
            validator,
            root,
        })
    }

    pub fn codec(&self) -> &Codec<T> {
        &self.codec
    }

    pub fn validator(&self) -> &Arc<Validator> {
        &self.validator
    }

    fn protocol(&self) -> Protocol {
        self.codec.options().protocol
    }

    /// Checks encoded bytes of `T` (the codec's protocol).
    pub fn check_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.validator
            .check_bytes_of(self.root, bytes, self.protocol())
    }

    /// Checks a value (encodes it to do so).
    pub fn check(&self, v: &T) -> Result<()> {
        self.encode(v).map(drop)
    }

    /// Encodes `v`; an error if it breaks a rule.
    pub fn encode(&self, v: &T) -> Result<Vec<u8>> {
        let bytes = self.codec.encode(v)?;
        self.check_bytes(&bytes)?;
        Ok(bytes)
    }

    /// Appends the encoding of `v` to `out`; on a violation `out` is left as it was.
    pub fn encode_into(&self, v: &T, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        self.codec.encode_into(v, out)?;
        if let Err(e) = self.check_bytes(&out[start..]) {
            out.truncate(start);
            return Err(e);
        }
        Ok(())
    }

    /// Validates, then decodes.
    pub fn decode(&self, bytes: &[u8]) -> Result<T> {
        self.check_bytes(bytes)?;
        self.codec.decode(bytes)
    }

    /// Validates, then decodes from `Bytes` (zero-copy fields).
    pub fn decode_bytes(&self, bytes: &Bytes) -> Result<T> {
        self.check_bytes(bytes)?;
        self.codec.decode_bytes(bytes)
    }

    /// [`Codec::encode_message`] with validation of `v`.
    pub fn encode_message(
        &self,
        name: &str,
        kind: TMessageType,
        seqid: i32,
        v: &T,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let start = out.len();
        self.codec.encode_message(name, kind, seqid, v, out)?;
        let (_, at) = read_message_header(&out[start..], self.protocol())?;
        if let Err(e) = self.check_bytes(&out[start + at..]) {
            out.truncate(start);
            return Err(e);
        }
        Ok(())
    }

    /// [`Codec::decode_message`] with validation of the payload.
    pub fn decode_message<'a>(&self, bytes: &'a [u8]) -> Result<(MessageHeader<'a>, T)> {
        let (_, at) = read_message_header(bytes, self.protocol())?;
        self.check_bytes(&bytes[at..])
            .map_err(|e| e.shift_offset(at))?;
        self.codec.decode_message(bytes)
    }
}
