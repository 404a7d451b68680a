//! A sample of the inputs' text, read before the scan so the matcher can choose literal-pass
//! anchors that are rare in these very logs (see `matching::anchors`): the first bytes of the
//! first regular files, gzip decompressed. Only speed depends on it; errors are left for the
//! scan to report, and stdin, which can be read once, is never sampled.

use std::io::Read;

use super::open::open_inline;
use super::walk::Input;

/// Most bytes sampled in all.
pub const SAMPLE_BYTES: usize = 1 << 20;
/// A sweep's sample spans at least this many files (when there are as many).
pub const SAMPLE_FILES: usize = 4;

/// Up to `SAMPLE_BYTES` of text from the heads of the first regular files among `inputs`.
pub fn sample(inputs: &[Input]) -> Vec<u8> {
    let files = inputs
        .iter()
        .filter(|i| matches!(i, Input::File(_)))
        .count();
    let per_file = SAMPLE_BYTES / files.clamp(1, SAMPLE_FILES);
    let mut out = Vec::new();
    for input in inputs {
        let Input::File(path) = input else {
            continue;
        };
        if out.len() >= SAMPLE_BYTES {
            break;
        }
        let want = per_file.min(SAMPLE_BYTES - out.len());
        read_head(path, want, &mut out);
    }
    out
}

/// Appends up to `max` bytes of the text at the start of the regular file at `path` (gzip
/// decoded) to `out`; what cannot be read is left out, and nothing else is opened.
pub fn read_head(path: &std::path::Path, max: usize, out: &mut Vec<u8>) {
    // Only regular files: a pipe (`<(zcat x)`) can be read once, and the scan will read it.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return;
    }
    if let Ok(opened) = open_inline(&Input::File(path.to_path_buf())) {
        let _ = opened.into_reader().take(max as u64).read_to_end(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn samples_heads_of_plain_and_gzip_files_and_skips_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.log");
        std::fs::write(&plain, "plain text\n").unwrap();
        let gz = dir.path().join("b.log.1");
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b"gzip text\n").unwrap();
        std::fs::write(&gz, e.finish().unwrap()).unwrap();
        let big = dir.path().join("c.log");
        std::fs::write(&big, vec![b'x'; SAMPLE_BYTES]).unwrap();
        let s = sample(&[
            Input::Stdin,
            Input::File(plain),
            Input::File(dir.path().join("missing.log")),
            Input::File(gz),
            Input::File(big),
        ]);
        assert!(s.starts_with(b"plain text\ngzip text\nxxx"));
        // Four files (of five inputs): a quarter of the sample each at most.
        assert_eq!(s.len(), 21 + SAMPLE_BYTES / 4);
    }
}
