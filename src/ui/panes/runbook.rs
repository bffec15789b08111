//! The runbook view as a pane: the list, the parameter form or the run
//! (drawn by [`crate::ui::runbooks`], whose keys are its own contexts).

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Cx, PaneView};
use crate::ui::view::Pane;

pub struct RunbookPane;

impl PaneView for RunbookPane {
    fn id(&self) -> Pane {
        Pane::Runbook
    }
    fn title(&self) -> &'static str {
        "Runbook"
    }
    fn keys(&self) -> crate::ui::keymap::Context {
        crate::ui::keymap::Context::RunbookList
    }
    fn render(&self, f: &mut Frame, area: Rect, cx: &Cx) -> Option<usize> {
        let app = cx.app;
        crate::ui::runbooks::render(f, area, &app.runbooks, &app.theme, app.source_now());
        None
    }
}
