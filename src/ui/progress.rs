//! Progress bars on stderr for work that takes more than a second, and only
//! when stderr is a terminal: scripts and agents reading our output never
//! see them.
//!
//! gix reports checkout progress into a prodash tree; a thread polls that
//! tree and draws it with indicatif.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gix::progress::tree::Root;

const SHOW_AFTER: Duration = Duration::from_secs(1);

/// A bar that appears once its work has taken a second, and is cleared
/// when dropped.
pub struct Bar {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Bar {
    /// A bar following gix's checkout progress, and the progress item to
    /// hand to gix.
    pub fn checkout(message: &str) -> (Bar, gix::progress::tree::Item) {
        let root: Arc<Root> = Root::new();
        let item = root.add_child(message);
        (Bar::start(message, Some(root)), item)
    }

    /// A spinner with the elapsed time, for work that reports no progress.
    pub fn spinner(message: &str) -> Bar {
        Bar::start(message, None)
    }

    fn start(message: &str, root: Option<Arc<Root>>) -> Bar {
        let stop = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Bar { stop, thread: None };
        }
        let message = message.to_owned();
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || draw(&message, root, &stopped));
        Bar {
            stop,
            thread: Some(thread),
        }
    }
}

fn draw(message: &str, root: Option<Arc<Root>>, stop: &AtomicBool) {
    let start = Instant::now();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut snapshot = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        if start.elapsed() < SHOW_AFTER {
            continue;
        }
        let bar = bar.get_or_insert_with(|| {
            let b = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            );
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {msg} [{elapsed}] {wide_bar} {pos}/{len}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.set_message(message.to_owned());
            b
        });
        let mut counted = false;
        if let Some(root) = &root {
            root.sorted_snapshot(&mut snapshot);
            // The first task with a known end is the file count of the checkout.
            if let Some(value) = snapshot
                .iter()
                .filter_map(|(_, t)| t.progress.as_ref())
                .find(|v| v.done_at.is_some())
            {
                bar.set_length(value.done_at.unwrap_or(0) as u64);
                bar.set_position(value.step.load(Ordering::Relaxed) as u64);
                counted = true;
            }
        }
        if !counted {
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.tick();
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The progress ops report, drawn on the terminal's stderr.
pub struct Terminal;

impl crate::ops::provision::Progress for Terminal {
    fn spinner(&self, message: &str) -> Box<dyn std::any::Any> {
        Box::new(Bar::spinner(message))
    }
    fn checkout(&self, message: &str) -> (Box<dyn std::any::Any>, gix::progress::tree::Item) {
        let (bar, item) = Bar::checkout(message);
        (Box::new(bar), item)
    }
}
