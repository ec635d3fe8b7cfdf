//! The writers every command's output goes through, and how errors are
//! rendered.

/// A reader that closed the pipe (`git agent list | head`) is not an error:
/// further output is dropped.
pub struct BrokenPipeSafe<W>(pub W);

impl<W: std::io::Write> std::io::Write for BrokenPipeSafe<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(buf.len()),
            other => other,
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self.0.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

/// Diagnostics keep their lines whole: agents and scripts read them, and a
/// path broken across lines cannot be copied.
pub fn install_report_handler(paint: crate::ui::color::Paint) {
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .wrap_lines(false)
                .color(paint.enabled())
                .build(),
        )
    }));
}
