//! Colours, and their plain fallback: with `NO_COLOR` set, or on a terminal that reports
//! fewer than 8 colours, everything is drawn with bold, underline and reverse video only.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub const COLOR: Theme = Theme { color: true };
    pub const PLAIN: Theme = Theme { color: false };

    /// From the environment: `NO_COLOR` (any non-empty value) and the terminal's colour count.
    pub fn detect() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let colors = ratatui::crossterm::style::available_color_count();
        Self::choose(no_color, colors)
    }

    pub fn choose(no_color: bool, terminal_colors: u16) -> Self {
        Theme {
            color: !no_color && terminal_colors >= 8,
        }
    }

    fn fg(self, color: Color, plain: Style) -> Style {
        if self.color {
            Style::default().fg(color)
        } else {
            plain
        }
    }

    pub fn title(self) -> Style {
        self.fg(Color::Cyan, Style::default())
            .add_modifier(Modifier::BOLD)
    }

    pub fn tab_active(self) -> Style {
        if self.color {
            Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    pub fn header(self) -> Style {
        self.fg(Color::Yellow, Style::default())
            .add_modifier(Modifier::BOLD)
    }

    pub fn selected(self) -> Style {
        if self.color {
            Style::default()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }

    pub fn ok(self) -> Style {
        self.fg(Color::Green, Style::default())
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow, Style::default())
    }

    pub fn error(self) -> Style {
        self.fg(Color::Red, Style::default())
            .add_modifier(Modifier::BOLD)
    }

    pub fn dim(self) -> Style {
        self.fg(Color::DarkGray, Style::default())
    }

    pub fn fresh(self) -> Style {
        self.fg(
            Color::Cyan,
            Style::default().add_modifier(Modifier::UNDERLINED),
        )
    }

    /// A credential's health state.
    pub fn state(self, state: &str) -> Style {
        match state {
            "healthy" => self.ok(),
            "cooling_down" | "circuit_open" => self.warn(),
            "invalid" => self.error(),
            _ => self.dim(),
        }
    }

    /// An HTTP status.
    pub fn status(self, status: i32) -> Style {
        match status {
            200..=399 => self.ok(),
            400..=499 => self.warn(),
            _ => self.error(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn colours_only_when_allowed_and_available() {
        assert!(Theme::choose(false, 256).color);
        assert!(!Theme::choose(true, 256).color);
        assert!(!Theme::choose(false, 2).color);
        assert_eq!(Theme::PLAIN.error().fg, None);
        assert_eq!(Theme::COLOR.error().fg, Some(Color::Red));
        assert!(
            Theme::PLAIN
                .selected()
                .add_modifier
                .contains(Modifier::REVERSED)
        );
    }
}
