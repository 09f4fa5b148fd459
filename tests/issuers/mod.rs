//! Real CAs as issuers, each against the real server on loopback: ACME (pebble) and the CFSSL
//! CA API (cfssl serve), with revocation and fallback.

mod acme;
mod cfssl;
