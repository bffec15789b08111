//! The help overlay (`?`): every key of the keymap by context, then every
//! `:` command of the command table. Both lists are generated.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::ui::commands::COMMANDS;
use crate::ui::keymap::{CONTEXTS, bindings};
use crate::ui::theme::Theme;
use crate::ui::widgets as panes;

/// The overlay's text, unscrolled.
pub fn lines(theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for ctx in CONTEXTS {
        lines.push(Line::from(Span::styled(ctx.title(), theme.header())));
        for b in bindings().filter(|b| b.context == *ctx) {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<10}", b.label), theme.accent()),
                Span::raw(b.help),
            ]));
        }
        lines.push(Line::default());
    }
    lines.push(Line::from(Span::styled("Commands", theme.header())));
    for c in COMMANDS {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<18}", c.usage()), theme.accent()),
            Span::raw(c.help),
        ]));
    }
    lines
}

pub fn render(f: &mut Frame, area: Rect, theme: &Theme, scroll: usize) {
    let w = area.width.saturating_sub(4).min(88);
    let h = area.height.saturating_sub(2);
    let [popup] = Layout::horizontal([Constraint::Length(w)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(h)])
        .flex(Flex::Center)
        .areas(popup);
    let lines = lines(theme);
    let total = lines.len();
    let inner_h = h.saturating_sub(2) as usize;
    let off = panes::clamp_scroll(scroll, total, inner_h);
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines)
            .scroll((off as u16, 0))
            .style(theme.base())
            .block(panes::block(
                "Help — any key closes, j/k scroll",
                None,
                true,
                theme,
            )),
        popup,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text() -> Vec<String> {
        lines(&Theme::default_dark())
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn every_command_of_the_table_is_in_help() {
        let help = text();
        for c in COMMANDS {
            let usage = c.usage();
            assert!(
                help.iter()
                    .any(|l| l.trim_start().starts_with(&usage) && l.contains(c.help)),
                "{usage} is not in help"
            );
        }
        assert!(help.iter().any(|l| l.trim_start().starts_with(":runbooks")));
    }

    #[test]
    fn every_binding_is_in_help() {
        let help = text();
        for b in bindings() {
            assert!(
                help.iter()
                    .any(|l| l.contains(b.label) && l.contains(b.help)),
                "{:?} {} is not in help",
                b.context,
                b.label
            );
        }
    }
}
