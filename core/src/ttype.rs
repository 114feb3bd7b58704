//! Thrift's wire-level type codes and message types, as the specification names them.

use std::fmt;

/// The type code of a value on the wire (Binary protocol numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TType {
    Stop = 0,
    Void = 1,
    Bool = 2,
    I8 = 3,
    Double = 4,
    I16 = 6,
    I32 = 8,
    I64 = 10,
    /// `string` and `binary` share this code.
    String = 11,
    Struct = 12,
    Map = 13,
    Set = 14,
    List = 15,
    Uuid = 16,
}

impl TType {
    /// The type for a Binary-protocol type code, `None` for an unknown code.
    #[inline]
    pub const fn from_u8(code: u8) -> Option<TType> {
        Some(match code {
            0 => TType::Stop,
            1 => TType::Void,
            2 => TType::Bool,
            3 => TType::I8,
            4 => TType::Double,
            6 => TType::I16,
            8 => TType::I32,
            10 => TType::I64,
            11 => TType::String,
            12 => TType::Struct,
            13 => TType::Map,
            14 => TType::Set,
            15 => TType::List,
            16 => TType::Uuid,
            _ => return None,
        })
    }

    /// The lower-case name the IDL uses for this type.
    pub const fn name(self) -> &'static str {
        match self {
            TType::Stop => "stop",
            TType::Void => "void",
            TType::Bool => "bool",
            TType::I8 => "i8",
            TType::Double => "double",
            TType::I16 => "i16",
            TType::I32 => "i32",
            TType::I64 => "i64",
            TType::String => "string",
            TType::Struct => "struct",
            TType::Map => "map",
            TType::Set => "set",
            TType::List => "list",
            TType::Uuid => "uuid",
        }
    }

    /// Size in bytes of a value of this type in the Binary protocol, when it is fixed.
    pub const fn binary_fixed_size(self) -> Option<usize> {
        match self {
            TType::Bool | TType::I8 => Some(1),
            TType::I16 => Some(2),
            TType::I32 => Some(4),
            TType::I64 | TType::Double => Some(8),
            TType::Uuid => Some(16),
            _ => None,
        }
    }
}

impl fmt::Display for TType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kind of a message in the envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TMessageType {
    Call = 1,
    Reply = 2,
    Exception = 3,
    Oneway = 4,
}

impl TMessageType {
    /// The message type for a wire code, `None` for an unknown code.
    pub const fn from_u8(code: u8) -> Option<TMessageType> {
        Some(match code {
            1 => TMessageType::Call,
            2 => TMessageType::Reply,
            3 => TMessageType::Exception,
            4 => TMessageType::Oneway,
            _ => return None,
        })
    }
}

impl fmt::Display for TMessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TMessageType::Call => "call",
            TMessageType::Reply => "reply",
            TMessageType::Exception => "exception",
            TMessageType::Oneway => "oneway",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_roundtrip() {
        for code in 0..=255u8 {
            if let Some(t) = TType::from_u8(code) {
                assert_eq!(t as u8, code);
            }
        }
        assert_eq!(TType::from_u8(5), None);
        assert_eq!(TType::from_u8(17), None);
        for code in 1..=4u8 {
            assert_eq!(TMessageType::from_u8(code).map(|m| m as u8), Some(code));
        }
        assert_eq!(TMessageType::from_u8(0), None);
    }
}
