use super::*;

const H2: &[u8] = include_bytes!("../../../tests/fixtures/yarn/hadoop2-spark.log");
const H3: &[u8] = include_bytes!("../../../tests/fixtures/yarn/hadoop3-spark.log");

/// Every section with its content.
fn split(text: &[u8]) -> Vec<(Section, Vec<u8>)> {
    split_reader(text)
}

fn split_reader<R: Read>(reader: R) -> Vec<(Section, Vec<u8>)> {
    let mut sections = Sections::new(reader);
    let mut out = Vec::new();
    while let Some(s) = sections.next_section().unwrap() {
        let mut content = Vec::new();
        sections.content().read_to_end(&mut content).unwrap();
        out.push((s, content));
        assert!(out.len() < 10_000, "no end");
    }
    out
}

/// The reference: for each `LogLength:N` header, the N bytes after its contents line.
fn by_loglength(text: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut length = None;
    while at < text.len() {
        let end = memchr(b'\n', &text[at..]).map_or(text.len(), |i| at + i + 1);
        let line = trim_eol(&text[at..end]);
        if let Some(n) = line.strip_prefix(b"LogLength:") {
            length = Some(std::str::from_utf8(n).unwrap().parse::<usize>().unwrap());
        }
        at = end;
        if line == b"Log Contents:" || line == b"LogContents:" {
            let n = length.take().unwrap();
            out.push(text[at..at + n].to_vec());
            at += n;
        }
    }
    out
}

fn sec(container: &str, host: &str, log_type: &str, first_line: u64) -> Section {
    Section {
        container: container.into(),
        application: application_of(container),
        host: Some(host.into()),
        log_type: log_type.into(),
        first_line,
    }
}

fn line_of(section: &Section, content: &[u8], needle: &str) -> u64 {
    let text = std::str::from_utf8(content).unwrap();
    let i = text.lines().position(|l| l.contains(needle)).unwrap();
    section.first_line + i as u64
}

/// Reads one byte per call: every buffer boundary gets crossed.
struct Trickle<'a>(&'a [u8]);
impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.0.is_empty() || buf.is_empty() {
            return Ok(0);
        }
        buf[0] = self.0[0];
        self.0 = &self.0[1..];
        Ok(1)
    }
}

#[test]
fn detects_both_fixtures() {
    assert!(looks_like_yarn_logs(H2));
    assert!(looks_like_yarn_logs(H3));
    assert!(looks_like_yarn_logs(&H3[..220]));
    let mut bom = BOM.to_vec();
    bom.extend_from_slice(H3);
    assert!(looks_like_yarn_logs(&bom));
}

#[test]
fn does_not_detect_other_text() {
    assert!(!looks_like_yarn_logs(b""));
    assert!(!looks_like_yarn_logs(b"\n\n\n"));
    let log4j = b"2024-03-11 02:14:31,010 ERROR [main] org.apache.hadoop.hdfs.DFSClient: Failed\n\
        24/03/11 02:14:15 INFO yarn.YarnAllocator: Launching container container_1710122400000_0042_01_000002 on host worker2.example.com\n";
    assert!(!looks_like_yarn_logs(log4j));
    let mentions = b"24/03/11 02:14:15 WARN yarn.YarnAllocator: Container: container_1710122400000_0042_01_000002 on worker2.example.com_45454 exited\n\
        LogType:stderr\n";
    assert!(!looks_like_yarn_logs(mentions));
    let banner_only =
        b"Container: container_1710122400000_0042_01_000002 on worker2.example.com_45454\n\
        =====\nsomething else\n\n\n\n\nLogType:stderr\n";
    assert!(!looks_like_yarn_logs(banner_only));
    let odd = b"Container: container_1710122400000_0042_01_000002 exited on worker2 now\nLogType:stderr\n";
    assert!(!looks_like_yarn_logs(odd));
}

#[test]
fn hadoop2_sections() {
    let got = split(H2);
    let (c1, c2) = (
        "container_1710122400000_0042_01_000001",
        "container_1710122400000_0042_01_000002",
    );
    let want = vec![
        sec(c1, "worker1.example.com", "stderr", 10),
        sec(c1, "worker1.example.com", "stdout", 105),
        sec(c2, "worker2.example.com", "stderr", 115),
        sec(c2, "worker2.example.com", "stdout", 156),
    ];
    assert_eq!(got.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>(), want);
    assert_eq!(
        got[0].0.application.as_deref(),
        Some("application_1710122400000_0042")
    );
    let contents: Vec<Vec<u8>> = got.iter().map(|(_, c)| c.clone()).collect();
    assert_eq!(contents, by_loglength(H2));
    assert_eq!(contents[0].len(), 8273);
    assert!(contents[1].is_empty());
    // The README's ERROR header lines.
    assert_eq!(
        line_of(&got[0].0, &got[0].1, "ERROR scheduler.TaskSetManager"),
        50
    );
    assert_eq!(
        line_of(&got[0].0, &got[0].1, "ERROR yarn.ApplicationMaster"),
        53
    );
    assert_eq!(
        line_of(&got[2].0, &got[2].1, "ERROR executor.Executor"),
        125
    );
    assert_eq!(
        line_of(&got[2].0, &got[2].1, "ERROR util.SparkUncaught"),
        142
    );
}

#[test]
fn hadoop3_sections() {
    let got = split(H3);
    let (c1, c2) = (
        "container_e17_1710115201234_0007_01_000001",
        "container_e17_1710115201234_0007_01_000002",
    );
    let (w1, w2) = ("worker1.example.com", "worker2.example.com");
    let want = vec![
        sec(c1, w1, "launch_container.sh", 8),
        sec(c1, w1, "prelaunch.err", 38),
        sec(c1, w1, "prelaunch.out", 49),
        sec(c1, w1, "stderr", 64),
        sec(c1, w1, "stdout", 132),
        sec(c2, w2, "prelaunch.err", 143),
        sec(c2, w2, "prelaunch.out", 154),
        sec(c2, w2, "stderr", 169),
        sec(c2, w2, "stdout", 201),
        sec(c2, w2, "syslog", 213),
    ];
    assert_eq!(got.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>(), want);
    assert_eq!(
        got[0].0.application.as_deref(),
        Some("application_1710115201234_0007")
    );
    let contents: Vec<Vec<u8>> = got.iter().map(|(_, c)| c.clone()).collect();
    assert_eq!(contents, by_loglength(H3));
    assert_eq!(contents[8], b"rows parsed: 524288\nrows rejected: 1");
    assert_eq!(
        line_of(&got[3].0, &got[3].1, "ERROR scheduler.TaskSetManager"),
        87
    );
    assert_eq!(
        line_of(&got[3].0, &got[3].1, "ERROR datasources.FileFormatWriter"),
        89
    );
    assert_eq!(
        line_of(&got[3].0, &got[3].1, "ERROR yarn.ApplicationMaster"),
        116
    );
    assert_eq!(
        line_of(&got[7].0, &got[7].1, "ERROR executor.Executor"),
        173
    );
    assert_eq!(line_of(&got[9].0, &got[9].1, "ERROR [main]"), 215);
}

#[test]
fn byte_at_a_time_reads_the_same() {
    for text in [H2, H3] {
        assert_eq!(split_reader(Trickle(text)), split(text));
    }
}

#[test]
fn skipping_and_partial_reads() {
    let mut sections = Sections::new(H3);
    let mut types = Vec::new();
    let mut n = 0;
    while let Some(s) = sections.next_section().unwrap() {
        n += 1;
        if n % 2 == 0 {
            let mut five = [0u8; 5];
            let k = sections.content().read(&mut five).unwrap();
            assert!(k <= 5);
        }
        types.push(s.log_type);
    }
    assert_eq!(types.len(), 10);
    assert_eq!(
        sections.lines_consumed(),
        H3.iter().filter(|&&b| b == b'\n').count() as u64
    );
    assert!(sections.next_section().unwrap().is_none());
    assert_eq!(sections.content().read(&mut [0u8; 4]).unwrap(), 0);
}

#[test]
fn truncated_file() {
    // Cut in the middle of the driver's stderr: the last section runs to the end.
    let cut = memchr::memmem::find(H3, b"Driver stacktrace:").unwrap();
    let got = split(&H3[..cut]);
    assert_eq!(got.len(), 4);
    assert_eq!(got[3].0.log_type, "stderr");
    let start = memchr::memmem::find(H3, b"24/03/11 02:14:05 INFO util.SignalUtils").unwrap();
    assert_eq!(got[3].1, &H3[start..cut]);
    // Cut anywhere: never a panic, sections are a prefix of the whole file's.
    let whole = split(H3);
    for cut in (0..H3.len()).step_by(7) {
        let got = split(&H3[..cut]);
        assert!(got.len() <= whole.len());
        for (i, (s, c)) in got.iter().enumerate() {
            assert_eq!(s, &whole[i].0);
            assert!(whole[i].1.starts_with(c));
        }
    }
    for cut in (0..H2.len()).step_by(11) {
        split(&H2[..cut]);
    }
}

#[test]
fn bad_or_missing_loglength_uses_the_markers() {
    let good = split(H3);
    for replacement in [
        &b"LogLength:abc"[..],
        b"LogLength:",
        b"LogLength:-5",
        b"Log Upload Time:x",
    ] {
        let text = replace_all_loglength(H3, replacement);
        let mut got = split(&text);
        // The stdout that ends without a newline gets the one Hadoop printed before End.
        assert_eq!(got[8].1.pop(), Some(b'\n'));
        assert_eq!(got, good, "{}", String::from_utf8_lossy(replacement));
    }
    // Hadoop 2.7: End of LogType right after the content.
    let text = replace_all_loglength(H2, b"LogLength:?");
    assert_eq!(split(&text), split(H2));
}

fn replace_all_loglength(text: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in text.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"LogLength:") {
            out.extend_from_slice(with);
            out.push(b'\n');
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

#[test]
fn loglength_is_trusted() {
    // Too small by 4: the section holds the 4 bytes less; the rest is skipped, and the next
    // section is still found.
    let text =
        String::from_utf8(H3.to_vec())
            .unwrap()
            .replacen("LogLength:5188", "LogLength:5184", 1);
    let got = split(text.as_bytes());
    let good = split(H3);
    assert_eq!(got.len(), good.len());
    assert_eq!(got[3].1, &good[3].1[..5184]);
    assert_eq!(got[4], good[4]);
    // Content that holds marker-like lines is kept whole.
    let inner =
        "End of LogType:stderr\nLogType:fake\nContainer: container_1_0001_01_000009 on h_1\n";
    let text = format!(
        "Container: container_1_0001_01_000001 on h_1\nLogType:stdout\nLogLength:{}\nLogContents:\n{inner}\nEnd of LogType:stdout\n",
        inner.len()
    );
    let got = split(text.as_bytes());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, inner.as_bytes());
    // Larger than the stream: the content runs to the end.
    let text = b"Container: container_1_0001_01_000001 on h_1\nLogType:stdout\nLogLength:999\nLog Contents:\nabc\n";
    assert_eq!(split(text)[0].1, b"abc\n");
}

#[test]
fn crlf_file() {
    let crlf: Vec<u8> = H3
        .split_inclusive(|&b| b == b'\n')
        .flat_map(|l| match l.strip_suffix(b"\n") {
            Some(l) => [l, b"\r\n"].concat(),
            None => l.to_vec(),
        })
        .collect();
    let good = split(H3);
    let got = split(&crlf);
    assert_eq!(got.len(), good.len());
    for ((s, c), (gs, gc)) in got.iter().zip(&good) {
        assert_eq!(s, gs);
        let want: Vec<u8> = gc
            .split_inclusive(|&b| b == b'\n')
            .flat_map(|l| match l.strip_suffix(b"\n") {
                Some(l) => [l, b"\r\n"].concat(),
                None => l.to_vec(),
            })
            .collect();
        assert_eq!(c, &want);
    }
    assert_eq!(split_reader(Trickle(&crlf)), got);
    assert!(looks_like_yarn_logs(&crlf));
}

#[test]
fn other_hadoop_forms() {
    // 2.6: no End line; 2.2: a space after the colon; a banner without "on".
    let text = b"\n\nContainer: container_1400000000000_0001_01_000001 on node7_8041\n\
        ==========\n\
        LogType: stderr\nLogLength: 4\nLog Contents:\nabc\n\n\
        LogType:stdout\nLog Upload Time:Tue Nov 15 22:35:30 +0000 2016\nLogLength:2\nLog Contents:\nx\n\n\
        \n\nContainer: container_1400000000000_0001_01_000002\n====\n\
        LogType:stderr\nLogLength:0\nLog Contents:\n\n";
    assert!(looks_like_yarn_logs(text));
    let got = split(text);
    assert_eq!(got.len(), 3);
    assert_eq!(
        (got[0].0.log_type.as_str(), got[0].1.as_slice()),
        ("stderr", &b"abc\n"[..])
    );
    assert_eq!(got[0].0.host.as_deref(), Some("node7"));
    assert_eq!(got[0].0.first_line, 8);
    assert_eq!(
        (got[1].0.log_type.as_str(), got[1].1.as_slice()),
        ("stdout", &b"x\n"[..])
    );
    assert_eq!(got[2].0.host, None);
    assert_eq!(got[2].0.container, "container_1400000000000_0001_01_000002");
    assert!(got[2].1.is_empty());
    // Later 2.x ("\nEnd of LogType"), running container without LogLength (LogsCLI), and a
    // NodeManager LOCAL section whose content ends without a newline.
    let text = b"Container: container_1_0001_01_000001 on h.example.com:8041\n====\n\
        LogType:stderr\nLog Upload Time:x\nLog Contents:\nline 1\nline 2\n\nEnd of LogType:stderr\n\n\
        Container: container_e3_1_0001_01_000002 on h2_8041_1634646632767\nLogAggregationType: LOCAL\n===\n\
        LogType:stdout\nLogLastModifiedTime:x\nLogLength:7\nLogContents:\nno eol!End of LogType:stdout.This log file belongs to a running container (container_e3_1_0001_01_000002) and so may not be complete.\n*****\n\n";
    let got = split(text);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1, b"line 1\nline 2\n");
    assert_eq!(got[0].0.host.as_deref(), Some("h.example.com"));
    assert_eq!(got[1].1, b"no eol!");
    assert_eq!(got[1].0.host.as_deref(), Some("h2"));
    assert_eq!(got[1].0.application.as_deref(), Some("application_1_0001"));
    assert_eq!(got[1].0.first_line, 18);
}

#[test]
fn junk_long_lines_and_orphans() {
    let mut text = b"WARNING: YARN_OPTS has been replaced by HADOOP_OPTS.\n".to_vec();
    text.extend(std::iter::repeat_n(b'x', 200_000));
    text.extend_from_slice(b"\nLogType:stderr\nLogLength:3\nLog Contents:\nno!\n");
    text.extend_from_slice(b"Container: container_1_0001_01_000001 on ");
    text.extend(std::iter::repeat_n(b'h', 70_000));
    text.extend_from_slice(b"_1\nLogType:stderr\nLogLength:3\nLog Contents:\nno!\n");
    text.extend_from_slice(b"\nEnd of LogType:prelaunch.err\n****\n\n"); // 3.0/3.1 empty file
    text.extend_from_slice(
        b"Container: container_1_0001_01_000002 on h_1\n===\nLogType:stderr\nLog Contents:\n",
    );
    let long_line: Vec<u8> = std::iter::repeat_n(b'y', 300_000).chain(*b"\n").collect();
    text.extend_from_slice(&long_line);
    text.extend_from_slice(b"LogType is a word\nok\n\nEnd of LogType:stderr\n");
    let got = split(&text);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.container, "container_1_0001_01_000002");
    assert_eq!(got[0].0.first_line, 20);
    let mut want = long_line.clone();
    want.extend_from_slice(b"LogType is a word\nok\n");
    assert_eq!(got[0].1, want);
    assert_eq!(split_reader(Trickle(&text)), got);
}

#[test]
fn header_pieces() {
    assert_eq!(
        host_of("host2.example.com_45454").as_deref(),
        Some("host2.example.com")
    );
    assert_eq!(
        host_of("wrk-1.au.adaltas.cloud_45454_1634646632767").as_deref(),
        Some("wrk-1.au.adaltas.cloud")
    );
    assert_eq!(host_of("host:8041").as_deref(), Some("host"));
    assert_eq!(host_of("my_host_8041").as_deref(), Some("my_host"));
    assert_eq!(host_of("plainhost").as_deref(), Some("plainhost"));
    assert_eq!(host_of("_8041"), None);
    assert_eq!(
        application_of("container_1445144423722_0020_01_000001").as_deref(),
        Some("application_1445144423722_0020")
    );
    assert_eq!(
        application_of("container_e17_1445144423722_0020_01_000001").as_deref(),
        Some("application_1445144423722_0020")
    );
    assert_eq!(application_of("container_x"), None);
    assert!(parse_banner(b"Container: container_1_0001_01_000001 on h_1\r\n").is_some());
    assert!(parse_banner(b"Container: container_ on h_1").is_none());
    assert!(parse_banner(b"Container: container_1_0001_01_000001 on ").is_none());
}
