//! ANSI colours for terminal output, on only when asked (`--color`, `NO_COLOR`,
//! `CLICOLOR_FORCE`: see `Global::color_stdout`).

pub(crate) const RESET: &str = "\x1b[0m";
pub(crate) const BOLD: &str = "\x1b[1m";
pub(crate) const DIM: &str = "\x1b[2m";
pub(crate) const RED: &str = "\x1b[31m";
pub(crate) const GREEN: &str = "\x1b[32m";
pub(crate) const YELLOW: &str = "\x1b[33m";
pub(crate) const CYAN: &str = "\x1b[36m";

/// Paints text in a style when colours are on, else leaves it as it is.
pub(crate) struct Paint(pub(crate) bool);

impl Paint {
    /// `text` in `style`, reset after.
    pub(crate) fn on(&self, style: &str, text: &str) -> String {
        if self.0 {
            format!("{style}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }
}
