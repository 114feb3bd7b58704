//! Unit tests of the IDL front end.
