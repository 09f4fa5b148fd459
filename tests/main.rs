//! Integration tests: the binary as a user runs it.
