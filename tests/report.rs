//! `trustops report` and `trustops metrics`: the Markdown report of the plan fixture (every
//! kind of finding, exceptions) as a snapshot; the HTML report opened in a real headless
//! Chromium (it loads with no console error, draws the chart, and loads nothing from the
//! network); the audit trail's status; and metrics that `promtool check metrics` accepts.

use crate::apply::crash::{estate, ok, trustops};
use crate::support::{Output, Test, tool};

const T0: &str = "2026-05-01T12:00:00Z";
/// A week later: the certificate issued at T0 expires within the chart's weeks.
const LATER: &str = "2026-05-08T12:00:00Z";

/// The estate applied once at T0: one signed audit commit.
fn applied() -> Test {
    let test = estate();
    let dir = test.dir.path();
    ok(&trustops(dir, T0, &["plan", "--out", "plan.json"]));
    ok(&trustops(
        dir,
        T0,
        &[
            "apply",
            "plan.json",
            "--auto-approve",
            "--signing-key",
            "audit-key",
        ],
    ));
    test
}

/// `trustops report` on the plan fixture at its instant, with `extra` arguments.
fn fixture_report(extra: &[&str]) -> (Test, Output) {
    let test = crate::plan::fixture()
        .args(&[
            "report",
            "--inventory",
            "inventory.json",
            "--now",
            crate::plan::NOW,
        ])
        .args(extra);
    let out = test.run();
    (test, out)
}

#[test]
fn the_markdown_report_maps_findings_to_owasp_and_nist_with_coverage_and_exceptions() {
    let (_, out) = fixture_report(&[]);
    let report = out.status(0).stdout;
    assert!(report.contains("No audit trail"), "{report}");
    insta::assert_snapshot!("report_markdown", report);
}

#[test]
fn the_report_states_the_verified_audit_trail() {
    let test = applied();
    let report = ok(&trustops(test.dir.path(), LATER, &["report"]));
    assert!(
        report.contains(
            "1 audit commit(s) and 1 record(s) on trustops-audit, every commit signed by an allowed key"
        ),
        "{report}"
    );
}

#[test]
fn the_html_report_opens_in_chromium_draws_the_chart_and_needs_no_network() {
    let (test, out) = fixture_report(&["--format", "html", "--out", "report.html"]);
    out.status(0);
    let dir = test.dir.path();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for remote in ["src=\"http", "href=\"http", "url(http", "@import", "<link"] {
        assert!(
            !html.contains(remote),
            "the report loads nothing from elsewhere ({remote})"
        );
    }
    let page = format!("file://{}", dir.join("report.html").display());
    let profile = format!("--user-data-dir={}", dir.join("chromium-profile").display());
    let (ran, output) = tool(
        "chromium",
        &[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            &profile,
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            &page,
        ],
        dir,
    );
    assert!(ran, "{output}");
    let drawn = output
        .split("data-chart=\"drawn:")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("the chart script did not run:\n{output}"));
    assert!(
        drawn >= 2,
        "the expiries within the weeks shown are drawn: {drawn}"
    );
    assert!(
        output.contains("trustops report: chart drawn"),
        "console output is captured:\n{output}"
    );
    for error in ["Uncaught", ":ERROR:CONSOLE", "Failed to load resource"] {
        assert!(!output.contains(error), "console error {error}:\n{output}");
    }
}

/// Headless Chromium on `page` in a window `width` pixels wide; `extra` says what to make.
fn chromium(dir: &std::path::Path, page: &str, width: u32, extra: &str) -> String {
    let profile = format!(
        "--user-data-dir={}",
        dir.join(format!("chromium-{width}")).display()
    );
    let size = format!("--window-size={width},2400");
    let (ran, output) = tool(
        "chromium",
        &[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--allow-file-access-from-files",
            &profile,
            &size,
            extra,
            page,
        ],
        dir,
    );
    assert!(ran, "{output}");
    output
}

/// The report on a phone (390 px), a desktop (1280 px) and paper: nothing pushes the page
/// sideways (the chart scales, wide tables scroll inside their box), screenshots come out, and
/// the counts are printed text — on each bar and on the y axis — not only tooltips. The table
/// of which credential expires when, and whose, starts with the longest expired.
#[test]
fn the_html_report_fits_a_phone_and_a_desktop_and_prints_its_counts() {
    let (test, out) = fixture_report(&["--format", "html", "--out", "report.html"]);
    out.status(0);
    let dir = test.dir.path();
    for width in [390u32, 1280] {
        // Headless Chromium's windows are at least 500 px wide: the report is laid out in a
        // frame of the width asked, and reports how wide it came out.
        let frame = dir.join(format!("at-{width}.html"));
        std::fs::write(
            &frame,
            format!(
                "<!DOCTYPE html><html><body style=\"margin:0\"><iframe id=\"f\" src=\"report.html\" style=\"border:0;width:{width}px;height:2400px\"></iframe><script>var f = document.getElementById(\"f\"); f.addEventListener(\"load\", function () {{ document.body.setAttribute(\"data-layout\", f.contentDocument.documentElement.getAttribute(\"data-layout\")); }});</script></body></html>"
            ),
        )
        .unwrap();
        let page = format!("file://{}", frame.display());
        let window = width.max(500);
        let dom = chromium(dir, &page, window, "--dump-dom");
        let layout = dom
            .split("data-layout=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("the layout script did not run:\n{dom}"));
        let (scroll, inner) = layout.split_once('/').unwrap();
        let (scroll, inner): (u32, u32) = (scroll.parse().unwrap(), inner.parse().unwrap());
        assert_eq!(inner, width, "{layout}");
        assert!(
            scroll <= inner,
            "at {width} px the page is {scroll} px wide"
        );
        let shot = dir.join(format!("report-{width}.png"));
        chromium(
            dir,
            &page,
            window,
            &format!("--screenshot={}", shot.display()),
        );
        let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let shot_width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
        assert_eq!(shot_width, window);
    }
    let page = format!("file://{}", dir.join("report.html").display());
    let pdf = dir.join("report.pdf");
    chromium(
        dir,
        &page,
        1280,
        &format!("--print-to-pdf={}", pdf.display()),
    );
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"), "printed");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let totals = html.matches("<text class=\"total\"").count();
    assert!(totals >= 2, "a count on each bar: {totals}");
    assert!(
        html.contains(">expired</text>"),
        "the expired column is in the chart"
    );
    let axis = html.matches("text-anchor=\"end\">").count();
    assert!(
        axis >= 3,
        "the y axis has counts between 0 and the peak: {axis}"
    );
    let table = html
        .split("<h2>Expiries: which credential, when, whose</h2>")
        .nth(1)
        .unwrap();
    let first = table.split("<tr><td>").nth(1).unwrap();
    assert!(
        first.contains("<td class=\"n bad\">-"),
        "the longest expired comes first: {first}"
    );
}

#[test]
fn metrics_carry_owner_labels_and_promtool_accepts_them() {
    let test = applied();
    let dir = test.dir.path();
    // A certificate no identity declares, beside the managed one: its expiry is exported too.
    let (legacy, _) = crate::support::openssl_ca(&dir.join("legacy"), "/CN=legacy.test", 30);
    std::fs::write(dir.join("deployed/legacy.pem"), legacy).unwrap();
    ok(&trustops(
        dir,
        LATER,
        &["metrics", "--out", "trustops.prom"],
    ));
    let text = std::fs::read_to_string(dir.join("trustops.prom")).unwrap();
    let expiry = text
        .lines()
        .find(|l| {
            l.starts_with(
                "trustops_credential_not_after_timestamp_seconds{identity=\"db-svc\",credential=\"tls\"",
            )
        })
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        expiry.contains("owner=\"team\"") && expiry.contains("trust_domain=\"internal-mtls\""),
        "{expiry}"
    );
    let t0 = T0.parse::<jiff::Timestamp>().unwrap().as_second();
    assert!(
        text.contains(&format!(
            "trustops_last_successful_apply_timestamp_seconds {t0}"
        )),
        "{text}"
    );
    assert!(
        text.contains("trustops_findings{code=\"expired\",severity=\"critical\",owner=\"\"} 0"),
        "{text}"
    );
    let legacy = text
        .lines()
        .find(|l| l.starts_with("trustops_unmanaged_credential_not_after_timestamp_seconds{"))
        .unwrap_or_else(|| panic!("the unmanaged certificate's expiry: {text}"));
    assert!(
        legacy.contains("subject=\"CN=legacy.test\"") && legacy.contains("legacy.pem"),
        "{legacy}"
    );
    assert!(
        text.contains("trustops_findings{code=\"unmanaged\",severity=\"high\",owner=\"\"} 1"),
        "an unmanaged credential has no owner: {text}"
    );
    let (installed, version) = tool("promtool", &["--version"], dir);
    assert!(installed, "{version}");
    // promtool reads the metrics on stdin.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("promtool check metrics < trustops.prom")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Every discovered certificate, by its place in the plan.
    let certificate = |state: &str, needle: &str| {
        text.lines()
            .filter(|l| l.starts_with("trustops_certificate_not_after_timestamp_seconds{"))
            .find(|l| l.contains(&format!("state=\"{state}\"")) && l.contains(needle))
            .unwrap_or_else(|| panic!("a {state} certificate with {needle}: {text}"))
            .to_owned()
    };
    assert!(certificate("current", "db-svc/tls").contains("owner=\"team\""));
    let serial = certificate("unmanaged", "CN=legacy.test");
    let serial = serial
        .split("serial=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap();

    // With x509-certificate-exporter's names and labels, as its dashboards and alerts ask.
    ok(&trustops(
        dir,
        LATER,
        &[
            "metrics",
            "--compat",
            "x509-certificate-exporter",
            "--out",
            "compat.prom",
        ],
    ));
    let compat = std::fs::read_to_string(dir.join("compat.prom")).unwrap();
    assert!(
        compat.starts_with(&text),
        "the native metrics come first, unchanged"
    );
    let decimal = crate::support::python("import sys; print(int(sys.argv[1], 16))", &[serial]);
    let legacy = compat
        .lines()
        .find(|l| l.starts_with("x509_cert_not_after{") && l.contains("filename=\"legacy.pem\""))
        .unwrap_or_else(|| panic!("{compat}"));
    for label in [
        "subject_CN=\"legacy.test\"".to_owned(),
        format!("serial_number=\"{}\"", decimal.trim()),
        "filepath=\"".to_owned(),
    ] {
        assert!(legacy.contains(&label), "{label} in {legacy}");
    }
    assert!(
        compat.contains("x509_source_up{source_kind=\"trustops\",source_name=\"hosts\"} 1"),
        "{compat}"
    );
    assert!(compat.contains("x509_cert_expired{"), "{compat}");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("promtool check metrics < compat.prom")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The secret's age is its file's modification time: the moment this test wrote it.
    // The unmanaged certificate was made now, with a new key.
    let filters = vec![
        (r#"(credential="password"[^}]*\}) \d+"#, "$1 [file mtime]"),
        (r#"fingerprint="[0-9a-f]+""#, "fingerprint=\"[new key]\""),
        (
            r#"(location="[^"]*legacy.pem"\}) \d+"#,
            "$1 [now + 30 days]",
        ),
        (r#"location="[^"]*/deployed/"#, "location=\"[dir]/deployed/"),
        // Serials are random; the test CA is made now, for ten years.
        (r#"serial="[0-9a-f]+""#, "serial=\"[random]\""),
        (r#"(state="other"[^}]*\}) \d+"#, "$1 [CA: now + 10 years]"),
    ];
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!("metrics", text);
    });
}
