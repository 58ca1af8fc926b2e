//! The progress bar on stderr: bytes read and layers done, drawn only on a terminal.

use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use stowaway_scan::Progress;

pub struct Bar {
    bar: ProgressBar,
    layers_done: AtomicUsize,
    layers: AtomicUsize,
}

impl Bar {
    pub fn new(visible: bool) -> Bar {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Bar {
            bar: ProgressBar::with_draw_target(None, target),
            layers_done: AtomicUsize::new(0),
            layers: AtomicUsize::new(0),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn show_layers(&self) {
        let done = self.layers_done.load(Ordering::Relaxed);
        self.bar
            .set_message(match self.layers.load(Ordering::Relaxed) {
                0 => format!("{done}"),
                total => format!("{done}/{total}"),
            });
    }
}

impl Progress for Bar {
    fn start(&self, bytes: Option<u64>, layers: usize) {
        let template = match bytes {
            Some(total) => {
                self.bar.set_length(total);
                "{spinner} {bytes}/{total_bytes} {wide_bar} {bytes_per_sec}, layers {msg}"
            }
            None => "{spinner} {bytes} read, {bytes_per_sec}, layers done: {msg}",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style);
        }
        self.layers.store(layers, Ordering::Relaxed);
        self.show_layers();
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn layer_done(&self) {
        self.layers_done.fetch_add(1, Ordering::Relaxed);
        self.show_layers();
    }
}
