//! Progress on stderr for long sweeps: bytes read out of the total, and the rate. Shown only
//! when stderr is a terminal, not with `--quiet`, and only once a sweep has run for a second
//! (short sweeps print nothing). The engine counts bytes read from disk into a shared counter;
//! a background thread draws the bar from it.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    pub bytes: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// `total` is the sum of the inputs' sizes on disk (0 when unknown, e.g. stdin).
    pub fn start(total: u64, enabled: bool) -> Progress {
        let bytes = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let thread = (enabled && std::io::stderr().is_terminal()).then(|| {
            let (bytes, done) = (bytes.clone(), done.clone());
            std::thread::spawn(move || {
                let started = Instant::now();
                let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
                let style = ProgressStyle::with_template(
                    "{spinner} {bytes}/{total_bytes} [{wide_bar}] {binary_bytes_per_sec} {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar());
                bar.set_style(style.progress_chars("=> "));
                let mut shown = false;
                while !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    if !shown && started.elapsed() >= Duration::from_secs(1) {
                        bar.set_draw_target(ProgressDrawTarget::stderr());
                        shown = true;
                    }
                    bar.set_position(bytes.load(Ordering::Relaxed));
                }
                bar.finish_and_clear();
            })
        });
        Progress {
            bytes,
            done,
            thread,
        }
    }

    pub fn finish(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
