//! Fuzz target `layout_time`: the layout detector, the timestamp parsers and the level finder
//! on arbitrary bytes.
//!
//! The whole input goes to `layout::detect`; the whole input and each of its lines (without
//! the terminator, as the engine passes them) go to `time::parse_kind` for every `TsKind`,
//! `Layout::header` and `Layout::is_header` for every layout, and `level::find_level`.
//!
//! Invariants checked: a timestamp's offsets lie inside the line and in order; a zone offset
//! is within ±23:59; its normalised ISO 8601 form parses back, whole, to the same ordering
//! key; a header's level is found after its timestamp; a timestamped layout calls a line a
//! header exactly when it starts with its timestamp (PostgreSQL: and its level does not
//! continue the previous message) or with `Exception in thread "`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use logtriage::event::layout::{self, is_console_continuation};
use logtriage::event::level::find_level;
use logtriage::event::time::{self, Stamp, TsKind, Zone};
use logtriage::event::{Layout, frame};

fn check_stamp(line: &[u8], st: &Stamp) {
    assert!(
        st.start <= st.text_end && st.text_end <= st.end && st.end <= line.len(),
        "stamp offsets out of order or outside the line: {st:?} in {} bytes",
        line.len()
    );
    let _ = &line[st.start..st.text_end];
    let iso = st.iso();
    if let Some(Zone::Offset(m)) = st.zone {
        assert!(m.abs() <= 23 * 60 + 59, "offset of {m} minutes");
    }
    let back = time::parse_kind(iso.as_bytes(), TsKind::Iso)
        .unwrap_or_else(|| panic!("normalised form {iso:?} does not parse back"));
    assert_eq!(
        back.key(),
        st.key(),
        "normalised form {iso:?} changes the time"
    );
    assert_eq!(
        back.end,
        iso.len(),
        "normalised form {iso:?} is not all timestamp"
    );
}

fn check_line(line: &[u8]) {
    for kind in TsKind::ALL {
        if let Some(st) = time::parse_kind(line, kind) {
            check_stamp(line, &st);
        }
    }
    if let Some((_, end)) = find_level(line) {
        assert!(end <= line.len(), "level end {end} past the line");
    }
    let _ = is_console_continuation(line);
    let exception = line.starts_with(b"Exception in thread \"");
    for l in Layout::ALL {
        let is_header = l.is_header(line);
        let (stamp, level) = l.header(line);
        if let Some(st) = &stamp {
            check_stamp(line, st);
            let expect = find_level(&line[st.end..]).map(|(lv, _)| lv);
            assert_eq!(
                level, expect,
                "{l:?}: header level is not the one after the stamp"
            );
        }
        if let Some(kind) = l.ts_kind() {
            let parsed = time::parse_kind(line, kind);
            assert_eq!(
                stamp.map(|s| (s.start, s.end)),
                parsed.map(|s| (s.start, s.end)),
                "{l:?}: header() and parse_kind disagree"
            );
            let continues =
                l == Layout::PostgreSql && level.is_some_and(|v| v.continues_previous());
            let expect = exception || (stamp.is_some() && !continues);
            assert_eq!(
                is_header, expect,
                "{l:?}: is_header disagrees with header()"
            );
        } else {
            assert!(stamp.is_none(), "{l:?} has no timestamps");
            if l == Layout::PostgreSqlBare && is_header && !exception {
                assert!(level.is_some(), "a bare PostgreSQL header has a level");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let detected = layout::detect(data);
    let _ = detected.name();
    check_line(data);
    let mut p = 0;
    while p < data.len() {
        let line = frame::line_at(data, p, data.len());
        check_line(line);
        p = frame::next_line(data, p, data.len());
    }
    // Framing over the whole input with the detected layout (bounds only).
    if let Some(h) = frame::last_header(detected, data, 0, data.len()) {
        assert!(h < data.len());
        let e = frame::event_end(detected, data, h, data.len());
        assert!(
            h < e && e <= data.len(),
            "event [{h}, {e}) outside the buffer"
        );
    }
});
