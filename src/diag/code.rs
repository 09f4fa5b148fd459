//! Stable diagnostic codes. Each code names one condition, never changes meaning, and is listed
//! in `docs/diagnostics.md` (a test checks both).

use serde::Serialize;

macro_rules! codes {
    ($($variant:ident = $name:literal : $description:literal,)*) => {
        /// What kind of problem a [`super::Diagnostic`] reports.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(#[doc = $description] $variant,)*
        }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable kebab-case name.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// One sentence saying what the code means.
            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $description,)* }
            }
        }
    };
}

codes! {
    Unreadable = "unreadable": "A file under the declaration paths could not be read, or is not UTF-8 text.",
    YamlSyntax = "yaml-syntax": "The file is not well-formed YAML.",
    YamlLimit = "yaml-limit": "The document exceeds a parser budget (file size, nesting depth, aliases, scalar size); this refuses YAML bombs.",
    InvalidConfig = "invalid-config": "`trustops.yaml` at the repository root is malformed.",
    UnsupportedApiVersion = "unsupported-api-version": "The `apiVersion` is not `trustops.dev/v1alpha1`.",
    UnknownKind = "unknown-kind": "The `kind` is not one of Owner, Policy, Issuer, Source, Identity, Exception.",
    MissingField = "missing-field": "A required field is absent.",
    UnknownField = "unknown-field": "A field that the kind does not define (often a typo).",
    InvalidValue = "invalid-value": "A field has the wrong type or a value outside what it accepts.",
    InvalidName = "invalid-name": "A name is not a lowercase DNS label (letters, digits, `-`, `.`; at most 253 characters).",
    DuplicateName = "duplicate-name": "Two declarations of the same kind share a name, or two credentials in one identity do.",
    UnknownReference = "unknown-reference": "A reference (owner, policy, issuer, source, rotateWith, dependsOn, exception target) names nothing declared.",
    ReferenceCycle = "reference-cycle": "Credentials linked by `rotateWith`/`dependsOn`, or owners linked by escalation, form a cycle, so no order exists.",
    AmbiguousType = "ambiguous-type": "An Issuer or Source must configure exactly one type (for example `localCa` or `acme`).",
    RenewBeforeExceedsValidity = "renew-before-exceeds-validity": "`renewBefore` is not shorter than `maxValidity`, so every certificate would always be due.",
    IssuerNotAllowed = "issuer-not-allowed": "An issuer is used where the policy's `allowedIssuers` does not allow it.",
    ImpossibleRenewalWindow = "impossible-renewal-window": "A renewal window's schedule can never match a real date (for example 30 February).",
    UnknownTimeZone = "unknown-time-zone": "A time zone is not an IANA name such as `Europe/Berlin` or `UTC`.",
    EscalationOrder = "escalation-order": "Escalation steps must have strictly increasing `after` delays.",
    NoDeclarations = "no-declarations": "No trustops declaration was found under the configured paths.",
    IneffectiveNotice = "ineffective-notice": "A notice threshold not shorter than the policy's `maxValidity`: it would fire the day a certificate is issued, so it is ignored.",
    UnreachableContact = "unreachable-contact": "An e-mail contact while `trustops.yaml` declares no SMTP relay: its notices are recorded, never sent.",
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Code;
    use std::collections::BTreeSet;

    #[test]
    fn codes_are_unique_kebab_case() {
        let names: BTreeSet<_> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), Code::ALL.len());
        for name in names {
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()),
                "{name}"
            );
        }
    }

    #[test]
    fn every_code_is_documented() {
        let docs = include_str!("../../docs/diagnostics.md");
        for code in Code::ALL {
            assert!(
                docs.contains(&format!("`{}`", code.as_str())),
                "{} missing from docs/diagnostics.md",
                code.as_str()
            );
        }
    }
}
