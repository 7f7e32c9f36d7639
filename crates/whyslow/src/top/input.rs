//! Keys of `whyslow top`, applied to the [`Model`]'s view state:
//!
//! | key | does |
//! |---|---|
//! | `c` `m` `i` `p` | sort by CPU %, memory (RSS), I/O bytes/s, PID |
//! | F6 | next sort order (htop's key) |
//! | `/` | type a name filter: Enter keeps it, Esc clears it, Backspace deletes |
//! | Esc | clear the filter |
//! | `q`, Ctrl-C | quit |
//!
//! The terminal is in raw mode, so Ctrl-C arrives here as a key, not SIGINT.

use super::model::{Model, SortKey};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Applies one key to the model.
pub fn apply(model: &mut Model, key: KeyEvent) {
    if key.kind == KeyEventKind::Release {
        return;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        model.quit = true;
        return;
    }
    if model.editing_filter {
        match key.code {
            KeyCode::Enter => model.editing_filter = false,
            KeyCode::Esc => {
                model.filter.clear();
                model.editing_filter = false;
            }
            KeyCode::Backspace => {
                model.filter.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                model.filter.push(c);
            }
            _ => {}
        }
        return;
    }
    match key.code {
        KeyCode::Char('q' | 'Q') => model.quit = true,
        KeyCode::Char('c' | 'C') => model.sort = SortKey::Cpu,
        KeyCode::Char('m' | 'M') => model.sort = SortKey::Memory,
        KeyCode::Char('i' | 'I') => model.sort = SortKey::Io,
        KeyCode::Char('p' | 'P') => model.sort = SortKey::Pid,
        KeyCode::F(6) => {
            model.sort = match model.sort {
                SortKey::Cpu => SortKey::Memory,
                SortKey::Memory => SortKey::Io,
                SortKey::Io => SortKey::Pid,
                SortKey::Pid => SortKey::Cpu,
            }
        }
        KeyCode::Char('/') => model.editing_filter = true,
        KeyCode::Esc => model.filter.clear(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn press(model: &mut Model, code: KeyCode) {
        apply(model, KeyEvent::new(code, KeyModifiers::NONE));
    }

    #[test]
    fn sort_keys_filter_editing_and_quit() {
        let mut m = Model::new("h".into(), Duration::from_secs(1));
        press(&mut m, KeyCode::Char('m'));
        assert_eq!(m.sort, SortKey::Memory);
        press(&mut m, KeyCode::F(6));
        assert_eq!(m.sort, SortKey::Io);
        press(&mut m, KeyCode::Char('/'));
        for c in "nginq".chars() {
            press(&mut m, KeyCode::Char(c));
        }
        press(&mut m, KeyCode::Backspace);
        press(&mut m, KeyCode::Char('x'));
        assert!(!m.quit, "q while typing is text");
        press(&mut m, KeyCode::Enter);
        assert_eq!((m.filter.as_str(), m.editing_filter), ("nginx", false));
        press(&mut m, KeyCode::Esc);
        assert_eq!(m.filter, "");
        press(&mut m, KeyCode::Char('p'));
        assert_eq!(m.sort, SortKey::Pid);
        apply(
            &mut m,
            KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
        );
        assert!(m.quit);
    }
}
