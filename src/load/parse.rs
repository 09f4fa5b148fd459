//! One file → its declarations in the model, with a diagnostic per broken document.

use super::document::{AnySpec, RawDocument, take_error_field, tracking_paths};
use super::{Input, Outcome, direct, names, yaml};
use crate::diag::{Code, Diagnostic, SourceFile, Span};
use crate::model::{API_VERSION, Declaration, Kind, Origin, Spanned};
use std::collections::BTreeMap;

/// Parses `input` document by document into `outcome`.
pub(super) fn file(input: Input, outcome: &mut Outcome) {
    let Input { path, bytes } = input;
    if bytes.len() > yaml::MAX_FILE_BYTES {
        let message = format!(
            "is {} bytes, larger than the {} MiB limit for a declaration file; split it",
            bytes.len(),
            yaml::MAX_FILE_BYTES >> 20
        );
        unreadable(&SourceFile::new(path, String::new()), &message, outcome);
        return;
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) if !text.contains('\0') => text,
        Ok(text) => {
            let file = SourceFile::new(path.clone(), text);
            unreadable(
                &file,
                "contains NUL bytes: this is a binary file, not YAML",
                outcome,
            );
            return;
        }
        Err(e) => {
            let file = SourceFile::new(
                path.clone(),
                String::from_utf8_lossy(e.as_bytes()).into_owned(),
            );
            unreadable(&file, "is not UTF-8 text", outcome);
            return;
        }
    };
    let file = SourceFile::new(path, text);
    // A file that parses whole is read from memory in one pass (directly from the parser's
    // events when it uses only what declarations do, else by serde-saphyr); only one with an
    // error is read again document by document, so that a broken document is reported and
    // the others still declare what they declare.
    let whole = direct::documents(&file.text).map_or_else(
        || {
            serde_saphyr::from_str_multiple_with_options::<RawDocument, Vec<_>>(
                &file.text,
                yaml::options(),
            )
        },
        Ok,
    );
    match whole {
        Ok(documents) => {
            for (index, raw) in documents.into_iter().enumerate() {
                admit(&file, index, raw, outcome);
            }
        }
        Err(_) => {
            take_error_field();
            tracking_paths(|| by_document(&file, outcome));
        }
    }
    outcome.files.insert(file);
}

/// Parses `file` one document at a time, a diagnostic for each that is refused.
fn by_document(file: &SourceFile, outcome: &mut Outcome) {
    let mut reader = file.text.as_bytes();
    let documents = serde_saphyr::read_with_options::<_, RawDocument>(&mut reader, yaml::options());
    let mut refused = false;
    for (index, result) in documents.enumerate() {
        let field = take_error_field();
        match result {
            Ok(raw) => admit(file, index, raw, outcome),
            Err(e) => {
                refused = true;
                outcome.documents += 1;
                outcome.diagnostics.push(yaml::diagnostic(file, &e, field));
            }
        }
    }
    if refused {
        outcome.refused.extend(names_of(&file.text));
    }
}

/// The kind and name of every document in `text`, read leniently (the spec ignored): a
/// declaration refused for one bad field is still declared, and references to it must not be
/// reported as unknown on top of its own error.
fn names_of(text: &str) -> Vec<(Kind, String)> {
    #[derive(serde::Deserialize)]
    struct Loose {
        #[serde(default)]
        kind: Option<String>,
        #[serde(default)]
        metadata: Option<LooseMetadata>,
    }
    #[derive(serde::Deserialize)]
    struct LooseMetadata {
        #[serde(default)]
        name: Option<String>,
    }
    let mut reader = text.as_bytes();
    serde_saphyr::read_with_options::<_, Loose>(&mut reader, yaml::options())
        .filter_map(Result::ok)
        .filter_map(|d| Some((Kind::parse(&d.kind?)?, d.metadata?.name?)))
        .collect()
}

fn unreadable(file: &SourceFile, why: &str, outcome: &mut Outcome) {
    outcome.diagnostics.push(
        Diagnostic::error(Code::Unreadable, format!("{} {why}", file.path)).at(
            &file.path,
            Span {
                line: 1,
                column: 1,
                offset: 0,
                len: 0,
            },
            "not text",
        ),
    );
}

/// Checks the envelope of one parsed document and adds its declaration to the model.
fn admit(file: &SourceFile, index: usize, raw: RawDocument, outcome: &mut Outcome) {
    if raw.foreign {
        return;
    }
    let path = file.path.as_str();
    let anchor = raw
        .kind
        .as_ref()
        .map(|k| k.span)
        .or(raw.api_version.as_ref().map(|a| a.span))
        .or(raw.metadata.as_ref().map(|m| m.name.span));
    let Some(anchor) = anchor else {
        // An empty mapping or one with none of our fields: not a trustops document.
        return;
    };
    outcome.documents += 1;
    let diagnostics = &mut outcome.diagnostics;
    let missing = |field: &str| {
        Diagnostic::error(Code::MissingField, format!("missing field `{field}`"))
            .field(field)
            .at(path, anchor, format!("this document has no `{field}`"))
    };
    let Some(api_version) = raw.api_version else {
        diagnostics.push(missing("apiVersion").note(format!("add `apiVersion: {API_VERSION}`")));
        return;
    };
    if api_version.value != API_VERSION {
        diagnostics.push(
            Diagnostic::error(
                Code::UnsupportedApiVersion,
                format!("unsupported apiVersion \"{}\"", api_version.value),
            )
            .field("apiVersion")
            .at(path, api_version.span, "this version is not supported")
            .note(format!("expected `{API_VERSION}`")),
        );
        return;
    }
    let Some(kind) = raw.kind else {
        diagnostics.push(missing("kind"));
        return;
    };
    if Kind::parse(&kind.value).is_none() {
        diagnostics.push(
            Diagnostic::error(
                Code::UnknownKind,
                format!("unknown kind \"{}\"", kind.value),
            )
            .field("kind")
            .at(path, kind.span, "not a trustops kind")
            .suggest(&kind.value, Kind::ALL.iter().map(|k| k.as_str()))
            .note("expected one of: Owner, Policy, Issuer, Source, Identity, Exception"),
        );
        return;
    }
    let Some(metadata) = raw.metadata else {
        diagnostics.push(missing("metadata"));
        return;
    };
    let Some(spec) = raw.spec else {
        diagnostics.push(if raw.spec_skipped {
            Diagnostic::error(
                Code::InvalidValue,
                "`spec` comes before `kind`, so its type is unknown",
            )
            .field("spec")
            .at(path, kind.span, "kind is declared after spec")
            .note("write apiVersion, kind and metadata before spec")
        } else {
            missing("spec")
        });
        return;
    };
    if !names::check(path, "metadata.name", &metadata.name, diagnostics) {
        return;
    }
    let origin = Origin {
        path: path.to_owned(),
        span: metadata.name.span,
        document: index,
    };
    let envelope = Envelope {
        api_version,
        kind,
        metadata,
        origin,
    };
    let model = &mut outcome.model;
    match spec {
        AnySpec::Owner(s) => insert(&mut model.owners, envelope.with(s), diagnostics),
        AnySpec::Policy(s) => insert(&mut model.policies, envelope.with(*s), diagnostics),
        AnySpec::Issuer(s) => insert(&mut model.issuers, envelope.with(*s), diagnostics),
        AnySpec::Source(s) => insert(&mut model.sources, envelope.with(*s), diagnostics),
        AnySpec::Identity(mut s) => {
            s.shrink_to_fit();
            insert(&mut model.identities, envelope.with(s), diagnostics)
        }
        AnySpec::Exception(s) => insert(&mut model.exceptions, envelope.with(*s), diagnostics),
    }
}

/// Adds what one part of the files parsed to `outcome`; a name `outcome` already declares is
/// "declared twice", as it would have been read in one pass.
pub(super) fn join(outcome: &mut Outcome, part: Outcome) {
    let Outcome {
        model,
        files,
        mut diagnostics,
        documents,
        refused,
        ..
    } = part;
    outcome.documents += documents;
    outcome.refused.extend(refused);
    outcome.files.extend(files);
    outcome.diagnostics.append(&mut diagnostics);
    let into = &mut outcome.model;
    let found = &mut outcome.diagnostics;
    insert_all(&mut into.owners, model.owners, found);
    insert_all(&mut into.policies, model.policies, found);
    insert_all(&mut into.issuers, model.issuers, found);
    insert_all(&mut into.sources, model.sources, found);
    insert_all(&mut into.identities, model.identities, found);
    insert_all(&mut into.exceptions, model.exceptions, found);
}

/// Adds the declarations of one part to `map`. Parts rarely share a name: then the first is
/// taken whole and a large one merged in one sorted pass, instead of inserting 50,000
/// declarations one at a time (each insert shifting half a node of large values); a part much
/// smaller than `map` is inserted, since a merge rebuilds all of `map`.
fn insert_all<S>(
    map: &mut BTreeMap<String, Declaration<S>>,
    mut part: BTreeMap<String, Declaration<S>>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if map.is_empty() {
        *map = part;
    } else if part.len() * 8 >= map.len() && part.keys().all(|name| !map.contains_key(name)) {
        map.append(&mut part);
    } else {
        for (_, d) in part {
            insert(map, d, diagnostics);
        }
    }
}

struct Envelope {
    api_version: Spanned<String>,
    kind: Spanned<String>,
    metadata: crate::model::Metadata,
    origin: Origin,
}

impl Envelope {
    fn with<S>(self, spec: S) -> Declaration<S> {
        Declaration {
            api_version: self.api_version,
            kind: self.kind,
            metadata: self.metadata,
            spec,
            origin: self.origin,
        }
    }
}

fn insert<S>(
    map: &mut BTreeMap<String, Declaration<S>>,
    decl: Declaration<S>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    match map.get(decl.name()) {
        Some(first) => diagnostics.push(
            Diagnostic::error(
                Code::DuplicateName,
                format!("{} \"{}\" is declared twice", decl.kind.value, decl.name()),
            )
            .field("metadata.name")
            .at(&decl.origin.path, decl.origin.span, "declared again here")
            .also(&first.origin.path, first.origin.span, "first declared here"),
        ),
        None => {
            map.insert(decl.name().to_owned(), decl);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_declared_in_files_parsed_on_different_threads_is_declared_twice() {
        let owner = |name: &str| {
            format!(
                "apiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {{name: {name}}}\nspec: {{contacts: [{{email: a@example.com}}]}}\n"
            )
        };
        let inputs: Vec<crate::load::Input> = (0..40)
            .map(|i| crate::load::Input {
                path: format!("f{i:02}.yaml"),
                bytes: owner(&format!("o{:02}", if i == 39 { 0 } else { i })).into_bytes(),
            })
            .collect();
        let outcome = crate::load::from_inputs(inputs);
        let twice: Vec<&Diagnostic> = outcome
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::DuplicateName)
            .collect();
        assert_eq!(twice.len(), 1, "{:#?}", outcome.diagnostics);
        let again = twice[0].primary.as_ref().unwrap();
        assert_eq!(again.path, "f39.yaml", "the later file is the duplicate");
        assert_eq!(outcome.model.owners["o00"].origin.path, "f00.yaml");
        assert_eq!(outcome.model.owners.len(), 39);
        assert_eq!(outcome.documents, 40);
    }

    /// A declared identity holds no more room than it uses: at 100,000 identities the room
    /// deserializing left in their lists was a third of the declarations' memory.
    #[test]
    fn identities_keep_no_spare_room() {
        let text = "apiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {name: web}\nspec:\n  owner: web\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {dnsNames: [web.example], source: hosts}\n      dnsNames: [web.example]\n      deploy: [{certFile: /a.pem, keyFile: /a.key}]\n";
        let outcome = crate::load::from_inputs(vec![crate::load::Input {
            path: "i.yaml".into(),
            bytes: text.as_bytes().to_vec(),
        }]);
        let spec = &outcome.model.identities["web"].spec;
        assert_eq!(spec.credentials.capacity(), 1);
        let c = &spec.credentials[0];
        assert_eq!(c.deploy.capacity(), 1);
        assert_eq!(c.dns_names.capacity(), 1);
        assert_eq!(c.match_rule.dns_names.capacity(), 1);
    }

    #[test]
    fn names_are_read_from_documents_whose_spec_is_refused() {
        let text = "apiVersion: trustops.dev/v1alpha1\nkind: Policy\nmetadata: {name: tls}\nspec: {trustDomain: public-tls, maxValidity: ninety}\n---\napiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {name: web}\nspec: {}\n";
        assert_eq!(
            names_of(text),
            [
                (Kind::Policy, "tls".to_owned()),
                (Kind::Owner, "web".to_owned())
            ]
        );
    }
}
