//! Tests of the mapping language.
