//! The pull-request comment: a minijinja template ([`DEFAULT_TEMPLATE`], replaceable with
//! `plan --template FILE`) rendered with the plan JSON as `plan` and the per-owner groups as
//! `owners`. Each owner's actions and findings sit in a collapsed `<details>` block.

use super::{by_owner, target};
use crate::plan::{Action, Plan};
use std::io::{self, Write};

/// The default template (`src/render/plan/default.md.j2`).
pub const DEFAULT_TEMPLATE: &str = include_str!("default.md.j2");

pub(super) fn write(out: &mut dyn Write, plan: &Plan, template: Option<&str>) -> io::Result<()> {
    let mut env = minijinja::Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| io::Error::other(format!("markdown template: {e:#}")))?;
    env.set_syntax(syntax);
    env.add_filter("cell", cell);
    env.add_filter("target", |a: minijinja::Value| -> String {
        serde_json::to_value(&a)
            .ok()
            .and_then(|v| serde_json::from_value::<Action>(v).ok())
            .map(|a| target(&a))
            .unwrap_or_default()
    });
    let source = template.unwrap_or(DEFAULT_TEMPLATE);
    let fail = |e: minijinja::Error| io::Error::other(format!("markdown template: {e:#}"));
    env.add_template("plan.md", source).map_err(fail)?;
    let text = env
        .get_template("plan.md")
        .and_then(|t| {
            t.render(minijinja::context! {
                plan => minijinja::Value::from(minijinja::value::Serde(plan)),
                owners => minijinja::Value::from(minijinja::value::Serde(by_owner(plan))),
            })
        })
        .map_err(fail)?;
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}

/// Text safe inside a Markdown table cell: pipes escaped, line breaks as `<br>`, HTML
/// brackets escaped.
pub(crate) fn cell(text: String) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace('\n', "<br>")
}
