//! Micro-benchmarks of the hot path's pieces: timestamp parsing, layout detection, event
//! framing, the one multi-literal pass, and a whole buffer scan with the built-in packs.
//! Run: `cargo bench --bench engine`. The input is real text: the loghub samples in
//! `../shared/corpus` when present, else lines in the same layouts written here.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use logtriage::event::{Layout, frame, layout, time};
use logtriage::finding::Origin;
use logtriage::matching::{Matcher, anchors};
use logtriage::scan::block::{Scanner, StreamContext};

const FALLBACK: &str = "\
2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0020_000001
2015-10-18 18:05:27,570 WARN [LeaseRenewer:msrabi@msra-sa-41:9000] org.apache.hadoop.hdfs.LeaseRenewer: Failed to renew lease for [DFSClient_NONMAPREDUCE_1537864556_1] for 30 seconds.  Will retry shortly ...
2015-10-18 18:06:26,029 FATAL [IPC Server handler 13 on 62270] org.apache.hadoop.mapred.TaskAttemptListenerImpl: Task: attempt_1445144423722_0020_m_000002_0 - exited : java.net.NoRouteToHostException: No Route to Host from  MININT-FNANLI5/127.0.0.1 to msra-sa-41:9000 failed on socket timeout exception
2015-10-18 18:06:27,000 ERROR [main] org.apache.hadoop.ipc.Server: accept failed
java.io.IOException: Too many open files
\tat sun.nio.ch.ServerSocketChannelImpl.accept0(Native Method)
\tat sun.nio.ch.ServerSocketChannelImpl.accept(ServerSocketChannelImpl.java:422)
2015-10-18 18:06:28,217 INFO [RMCommunicator Allocator] org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator: Recalculating schedule, headroom=<memory:0, vCores:-27>
";

/// About 8 MiB of real log text.
fn corpus() -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let mut one = Vec::new();
    for name in ["Hadoop", "HDFS", "Spark", "Zookeeper"] {
        if let Ok(b) = std::fs::read(dir.join(name).join(format!("{name}_2k.log"))) {
            one.extend_from_slice(&b);
            if !one.ends_with(b"\n") {
                one.extend_from_slice(b"\r\n");
            }
        }
    }
    if one.is_empty() {
        one = FALLBACK.as_bytes().to_vec();
    }
    let mut out = Vec::with_capacity(8 << 20);
    while out.len() < 8 << 20 {
        out.extend_from_slice(&one);
    }
    out
}

fn builtin_matcher() -> Matcher {
    Matcher::new(logtriage::rules::load(&[], false).expect("built-in packs load")).expect("matcher")
}

fn bench(c: &mut Criterion) {
    let data = corpus();
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').take(10_000).collect();

    let mut g = c.benchmark_group("timestamp");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("parse_iso_10k_lines", |b| {
        b.iter(|| {
            lines
                .iter()
                .filter(|l| time::parse_kind(black_box(l), time::TsKind::Iso).is_some())
                .count()
        })
    });
    g.bench_function("header_level_10k_lines", |b| {
        b.iter(|| {
            lines
                .iter()
                .filter(|l| Layout::Hadoop.header(black_box(l)).1.is_some())
                .count()
        })
    });
    g.finish();

    c.bench_function("layout/detect_64KiB", |b| {
        b.iter(|| layout::detect(black_box(&data[..64 * 1024])))
    });

    let mut g = c.benchmark_group("frame");
    let log = FALLBACK.as_bytes();
    let hit = log.windows(4).position(|w| w == b"Too ").unwrap();
    g.bench_function("event_around_hit", |b| {
        b.iter(|| {
            let s = frame::event_start(Layout::HadoopMapReduce, log, 0, black_box(hit));
            frame::event_end(Layout::HadoopMapReduce, log, s, log.len())
        })
    });
    g.finish();

    let matcher = builtin_matcher();
    let mut g = c.benchmark_group("scan_8MiB");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(20);
    // The literal pass with anchors chosen by the built-in model alone, and tuned to a 1 MiB
    // sample of the text (as `scan` does with the heads of the files it is given).
    let sample = &data[..data.len().min(1 << 20)];
    let tuned = Matcher::tuned(
        logtriage::rules::load(&[], false).expect("built-in packs load"),
        sample,
    )
    .expect("matcher");
    for (name, m) in [
        ("literal_pass_only", &matcher),
        ("literal_pass_only_tuned", &tuned),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let (mut pos, mut n) = (0, 0);
                let mut cursor = m.cursor();
                while let Some((h, _)) = cursor.next_hit(&data, pos, data.len()) {
                    n += 1;
                    pos = h + 1;
                }
                n
            })
        });
    }
    g.bench_function("newline_count", |b| {
        b.iter(|| memchr::memchr_iter(b'\n', black_box(&data)).count())
    });
    let origin = Origin::default();
    let ctx = StreamContext::all_rules(&matcher, &origin);
    g.bench_function("scanner_builtin_packs", |b| {
        b.iter(|| {
            let mut sc = Scanner::new(&ctx, Layout::Hadoop, 1);
            let mut hits = 0u64;
            sc.scan(black_box(&data), true, &mut |_| hits += 1);
            hits
        })
    });
    g.finish();

    // Start-up cost of the anchor choice (203 literals), with and without the input sample.
    let literals: Vec<Vec<u8>> = {
        let rules = logtriage::rules::load(&[], false).expect("built-in packs load");
        let mut l: Vec<Vec<u8>> = rules
            .iter()
            .flat_map(|r| r.literals.iter().map(|l| l.as_bytes().to_vec()))
            .collect();
        l.sort();
        l.dedup();
        l
    };
    let literals: Vec<&[u8]> = literals.iter().map(Vec::as_slice).collect();
    c.bench_function("anchors/choose_builtin", |b| {
        b.iter(|| anchors::choose(black_box(&literals), b""))
    });
    c.bench_function("anchors/choose_builtin_1MiB_sample", |b| {
        b.iter(|| anchors::choose(black_box(&literals), sample))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
