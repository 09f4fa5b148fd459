//! The scanner source: gitleaks and trufflehog reports.

use super::*;

#[test]
fn secret_scanner_reports_become_fingerprints_never_values() {
    let gitleaks = r#"[
 {"Description": "AWS Access Key", "StartLine": 12, "EndLine": 12, "StartColumn": 5, "EndColumn": 25,
  "Match": "aws_key = AKIAIOSFODNN7EXAMPLE", "Secret": "AKIAIOSFODNN7EXAMPLE", "File": "deploy/config.py",
  "SymlinkFile": "", "Commit": "3f2a9c1", "Entropy": 3.6, "Author": "dev", "Email": "dev@acme.example",
  "Date": "2026-02-03T10:00:00Z", "Message": "add config", "Tags": [], "RuleID": "aws-access-token",
  "Fingerprint": "3f2a9c1:deploy/config.py:aws-access-token:12"},
 {"Description": "AWS Access Key", "StartLine": 3, "Match": "AKIAIOSFODNN7EXAMPLE", "Secret": "AKIAIOSFODNN7EXAMPLE",
  "File": "old/creds.txt", "Commit": "9d8e7f6", "Date": "2026-01-01T00:00:00Z", "RuleID": "aws-access-token"}
]"#;
    let trufflehog = concat!(
        r#"{"SourceMetadata":{"Data":{"Git":{"commit":"abc123","file":"app/settings.py","email":"dev@acme.example","repository":"https://git.acme.example/app.git","timestamp":"2026-03-04 05:06:07 +0000","line":7}}},"SourceID":1,"SourceType":16,"SourceName":"trufflehog - git","DetectorType":8,"DetectorName":"Github","DecoderName":"PLAIN","Verified":true,"Raw":"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","RawV2":"","Redacted":"","ExtraData":null,"StructuredData":null}"#,
        "\n\n"
    );
    let out = Test::new()
        .file("sources.yaml", "apiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {name: gitleaks}\nspec:\n  scanner: {format: gitleaks, report: reports/gitleaks.json}\n---\napiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {name: trufflehog}\nspec:\n  scanner: {format: trufflehog, report: reports/trufflehog.jsonl}\n")
        .file("reports/gitleaks.json", gitleaks)
        .file("reports/trufflehog.jsonl", trufflehog)
        .args(&["discover", "--format", "json"])
        .in_repo()
        .run()
        .status(0);
    for secret in [
        "AKIAIOSFODNN7EXAMPLE",
        "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",
    ] {
        assert!(!out.stdout.contains(secret), "a leaked secret was printed");
    }
    let found: Value = serde_json::from_str(&out.stdout).unwrap();
    let credentials = found["credentials"].as_array().unwrap();
    assert_eq!(
        credentials.len(),
        2,
        "the same AWS key in two places is one entry: {found:#}"
    );
    let aws = credentials
        .iter()
        .find(|c| c["detector"] == "aws-access-token")
        .unwrap();
    use sha2::Digest;
    assert_eq!(
        aws["sha256"].as_str().unwrap()[..12],
        crate::hex12(&sha2::Sha256::digest(b"AKIAIOSFODNN7EXAMPLE"))
    );
    let places: Vec<String> = aws["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{}:{}@{}",
                l["path"].as_str().unwrap(),
                l["line"],
                l["commit"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        places,
        ["deploy/config.py:12@3f2a9c1", "old/creds.txt:3@9d8e7f6"]
    );
    let github = credentials
        .iter()
        .find(|c| c["detector"] == "Github")
        .unwrap();
    assert_eq!(github["metadata"]["verified"], "true");
    assert_eq!(github["created"], "2026-03-04T05:06:07Z");
    assert_eq!(
        github["locations"][0]["repository"],
        "https://git.acme.example/app.git"
    );

    // A malformed report fails its source, and the message names a position, never a value.
    let broken = r#"[{"RuleID": "x", "File": "a", "StartLine": "AKIAIOSFODNN7EXAMPLE", "Secret": "AKIAIOSFODNN7EXAMPLE"}]"#;
    let out = Test::new()
        .file("s.yaml", "apiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {name: g}\nspec:\n  scanner: {format: gitleaks, report: r.json}\n")
        .file("r.json", broken)
        .args(&["discover", "--format", "json"])
        .in_repo()
        .run()
        .status(1);
    assert!(
        out.stdout.contains("is not a gitleaks JSON report (line 1"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("AKIA") && !out.stderr.contains("AKIA"),
        "a secret leaked into an error"
    );
}
