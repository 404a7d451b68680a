//! Origin: whom a stream belongs to, decided once, here, for every later stage. The service
//! that wrote a log, its component and Run Book layer come from the file's path and name
//! (`hadoop-hdfs-datanode-HOST.log`, `tserver_HOST.log`, `zookeeper.out`, `postgresql-*.log`,
//! `koverse-server.log.3.gz`, `server.err`) or, when the path says nothing, from the loggers in
//! its first lines; a `yarn logs` section adds its container and application. The host is only
//! a clue here (`HostClue`: a name the file or a YARN banner gives, folders that may name a
//! machine); `hosts` turns the clues of a whole sweep into one name per machine.

use crate::rules::Layer;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    #[serde(with = "static_name")]
    pub service: StaticName,
    #[serde(with = "static_name")]
    pub component: StaticName,
    pub layer: Option<Layer>,
    /// The machine, as the sweep names it (`hosts::Hosts::resolve`).
    pub host: Option<String>,
    /// The YARN container and application of a `yarn logs` section.
    pub container: Option<String>,
    pub application: Option<String>,
}

/// What a stream's path (or a YARN banner) says about its machine.
#[derive(
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct HostClue {
    /// A host named outright: in the file name (`hadoop-hdfs-datanode-HOST.log`,
    /// `tserver_HOST.log`) or a YARN banner (`on HOST_PORT`).
    pub named: Option<String>,
    /// Folders that may name a machine, deepest first.
    pub folders: Vec<FolderClue>,
    /// The `--host` of the sweep that read it, when it names no host itself: a merge of
    /// sweeps run with different `--host` (one per machine) keeps each one's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

/// A folder whose name looks like a machine's (`dn1`, `node3.example.com`).
#[derive(
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct FolderClue {
    /// The path of the folder that holds it (siblings share it).
    pub parent: String,
    pub name: String,
    /// The folder holds a folder named for a service (`dn1/hadoop-hdfs/`): a host's logs.
    pub holds_service_folder: bool,
}

struct Service {
    name: &'static str,
    component: &'static str,
    layer: Layer,
}

const fn svc(name: &'static str, component: &'static str, layer: Layer) -> Service {
    Service {
        name,
        component,
        layer,
    }
}

use Layer::{Application as App, DataServices as Data, StorageCoordination as Storage};

const NAMENODE: Service = svc("namenode", "hdfs", Storage);
// Its own service: a SecondaryNameNode that fails is not the NameNode gone (Run Book scenarios).
const SECONDARY_NAMENODE: Service = svc("secondarynamenode", "hdfs", Storage);
const DATANODE: Service = svc("datanode", "hdfs", Storage);
const JOURNALNODE: Service = svc("journalnode", "hdfs", Storage);
const ZOOKEEPER: Service = svc("zookeeper", "zookeeper", Storage);
const POSTGRESQL: Service = svc("postgresql", "postgresql", Storage);
const RESOURCEMANAGER: Service = svc("resourcemanager", "yarn", Data);
const NODEMANAGER: Service = svc("nodemanager", "yarn", Data);
const TSERVER: Service = svc("tserver", "accumulo", Data);
const MASTER: Service = svc("accumulo-master", "accumulo", Data);
const KAFKA: Service = svc("kafka", "kafka", Data);
const ACC_GC: Service = svc("accumulo-gc", "accumulo", App);
const ACC_MONITOR: Service = svc("accumulo-monitor", "accumulo", App);
const KOVERSE_SERVER: Service = svc("koverse-server", "app", App);
const KOVERSE_WEBAPP: Service = svc("koverse-webapp", "app", App);
const SPARK_DRIVER: Service = svc("spark-driver", "spark", App);
const MR_AM: Service = svc("mapreduce", "yarn", Data);
const SPARK_EXECUTOR: Service = svc("spark-executor", "spark", App);

/// Every service a path or content can name, in the Run Book's layer order.
const SERVICES: &[&Service] = &[
    &NAMENODE,
    &SECONDARY_NAMENODE,
    &DATANODE,
    &JOURNALNODE,
    &ZOOKEEPER,
    &POSTGRESQL,
    &RESOURCEMANAGER,
    &NODEMANAGER,
    &TSERVER,
    &MASTER,
    &KAFKA,
    &MR_AM,
    &ACC_GC,
    &ACC_MONITOR,
    &KOVERSE_SERVER,
    &KOVERSE_WEBAPP,
    &SPARK_DRIVER,
    &SPARK_EXECUTOR,
];

/// The names of the services logtriage tells apart (an `Origin`'s `service`).
/// The static name a saved stream (`report::streams`) gives back: a service's or component's
/// name of this build, or (from another build) one leaked for the short life of the merge.
pub fn static_str(name: &str) -> &'static str {
    SERVICES
        .iter()
        .find_map(|s| {
            (s.name == name)
                .then_some(s.name)
                .or((s.component == name).then_some(s.component))
        })
        .unwrap_or_else(|| Box::leak(name.to_string().into_boxed_str()))
}

/// A service's or component's name. An alias, so that serde's derive does not see the
/// `'static` (which would make it ask the deserializer's input to live forever).
pub type StaticName = Option<&'static str>;

/// serde for `Option<&'static str>` fields (`static_str`).
pub mod static_name {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<&'static str>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'static str>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(|n| super::static_str(&n)))
    }
}

/// A set of services' names (an alias, as `StaticName`).
pub type StaticNames = std::collections::BTreeSet<&'static str>;

/// serde for sets of static names (`static_str`).
pub mod static_names {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeSet;

    pub fn serialize<S: Serializer>(v: &BTreeSet<&'static str>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeSet<&'static str>, D::Error> {
        Ok(Vec::<String>::deserialize(d)?
            .iter()
            .map(|n| super::static_str(n))
            .collect())
    }
}

pub fn service_names() -> Vec<&'static str> {
    SERVICES.iter().map(|s| s.name).collect()
}

/// A service's static name, component and layer, by its name (a saved report's `service`).
pub fn service_info(name: &str) -> Option<(&'static str, &'static str, Layer)> {
    SERVICES
        .iter()
        .find(|s| s.name == name)
        .map(|s| (s.name, s.component, s.layer))
}

pub fn is_service_name(name: &str) -> bool {
    SERVICES.iter().any(|s| s.name == name)
}

/// Strips rotation and compression suffixes: `x.log.3.gz` -> `x.log`, `x.log.2024-03-11` -> `x.log`.
pub fn base_name(name: &str) -> &str {
    let mut n = name;
    loop {
        let before = n;
        for suf in [".gz", ".bz2", ".zst", ".xz"] {
            n = n.strip_suffix(suf).unwrap_or(n);
        }
        if let Some(dot) = n.rfind('.') {
            let tail = &n[dot + 1..];
            if !tail.is_empty()
                && tail
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '-' || c == '_')
            {
                n = &n[..dot];
            }
        }
        if n == before {
            return n;
        }
    }
}

/// `x.linesA-B.log` or `x.log.linesA-B` (an excerpt of `x.log`, lines A to B, as the labelled
/// corpus names them) -> `x.log`; other names as they are.
fn without_excerpt(name: &str) -> std::borrow::Cow<'_, str> {
    let is_num = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    for (i, _) in name.match_indices(".lines") {
        let rest = &name[i + ".lines".len()..];
        let end = rest.find('.').unwrap_or(rest.len());
        if rest[..end]
            .split_once('-')
            .is_some_and(|(a, b)| is_num(a) && is_num(b))
        {
            return format!("{}{}", &name[..i], &rest[end..]).into();
        }
    }
    name.into()
}

/// `hadoop-hdfs-datanode-HOST.log` / `yarn-yarn-nodemanager-HOST.log`: (daemon, HOST). HOST
/// ends at `.log`/`.out`; an excerpt's `.linesA-B` is no part of it.
fn hadoop_daemon(name: &str) -> Option<(&'static Service, String)> {
    let name = without_excerpt(name);
    let stem = name
        .strip_suffix(".log")
        .or_else(|| name.strip_suffix(".out"))?;
    let rest = stem
        .strip_prefix("hadoop-")
        .or_else(|| stem.strip_prefix("yarn-"))
        .or_else(|| stem.strip_prefix("mapred-"))?;
    for (daemon, s) in [
        ("-namenode-", &NAMENODE),
        ("-secondarynamenode-", &SECONDARY_NAMENODE),
        ("-datanode-", &DATANODE),
        ("-journalnode-", &JOURNALNODE),
        ("-resourcemanager-", &RESOURCEMANAGER),
        ("-nodemanager-", &NODEMANAGER),
    ] {
        if let Some(i) = rest.find(daemon) {
            return Some((s, rest[i + daemon.len()..].to_string()));
        }
    }
    None
}

/// Accumulo `SERVICE_HOST.log`, `SERVICE_HOST.debug.log`, `.out`, `.err`.
fn accumulo_service(name: &str) -> Option<(&'static Service, Option<String>)> {
    let stem = name
        .strip_suffix(".debug.log")
        .or_else(|| name.strip_suffix(".log"))
        .or_else(|| name.strip_suffix(".out"))
        .or_else(|| name.strip_suffix(".err"))
        .unwrap_or(name);
    for (prefix, s) in [
        ("tserver", &TSERVER),
        ("master", &MASTER),
        ("manager", &MASTER),
        ("gc", &ACC_GC),
        ("monitor", &ACC_MONITOR),
    ] {
        if stem == prefix {
            return Some((s, None));
        }
        if let Some(host) = stem.strip_prefix(prefix).and_then(|r| r.strip_prefix('_')) {
            return Some((s, (!host.is_empty()).then(|| host.to_string())));
        }
    }
    None
}

fn by_name(name: &str, dirs: &[&str]) -> Option<(&'static Service, Option<String>)> {
    let base = base_name(name);
    if let Some((s, h)) = hadoop_daemon(base) {
        return Some((s, Some(h)));
    }
    let in_dir = |d: &str| dirs.iter().any(|x| x.contains(d));
    if base.starts_with("koverse-server") {
        return Some((&KOVERSE_SERVER, None));
    }
    if base.starts_with("koverse-webapp") {
        return Some((&KOVERSE_WEBAPP, None));
    }
    if base == "server.err" || base.starts_with("spark-driver") {
        return Some((&SPARK_DRIVER, None));
    }
    if base.starts_with("zookeeper") || base.starts_with("zoo-") || base.starts_with("zkserver") {
        return Some((&ZOOKEEPER, None));
    }
    if base.starts_with("postgresql") || base.starts_with("postgres") {
        return Some((&POSTGRESQL, None));
    }
    if base.starts_with("kafka") || (base == "server.log" && in_dir("kafka")) {
        return Some((&KAFKA, None));
    }
    if let Some(x) = accumulo_service(base)
        && (in_dir("accumulo") || x.1.is_some() || base.ends_with(".log"))
    {
        return Some(x);
    }
    None
}

/// Folders that name a service rather than a host.
fn by_dir(dirs: &[&str]) -> Option<&'static Service> {
    for d in dirs.iter().rev() {
        let s = match *d {
            "koverse-server" => &KOVERSE_SERVER,
            "koverse-webapp" => &KOVERSE_WEBAPP,
            "zookeeper" => &ZOOKEEPER,
            "postgresql" | "pgsql" | "postgres" => &POSTGRESQL,
            "kafka" => &KAFKA,
            "hadoop-yarn" | "yarn" => &NODEMANAGER,
            "hadoop-mapreduce" => &MR_AM,
            _ => continue,
        };
        return Some(s);
    }
    None
}

const NOT_HOSTS: &[&str] = &[
    "var",
    "log",
    "logs",
    "opt",
    "srv",
    "tmp",
    "home",
    "data",
    "hadoop",
    "hdfs",
    "yarn",
    "accumulo",
    "zookeeper",
    "kafka",
    "postgresql",
    "pgsql",
    "spark",
    "koverse-server",
    "koverse-webapp",
    "samples",
    "tests",
    "fixtures",
    "userlogs",
    "incident",
    "cluster",
    "archive",
    "old",
    "rotated",
    "pg_log",
    "hadoop-hdfs",
    "hadoop-yarn",
];

/// A folder name that looks like a host: `dn1`, `node3.example.com`, `ip-10-0-0-7`, `10.0.0.7`.
fn looks_like_host(d: &str) -> bool {
    if super::hosts::is_ip(d) {
        return true;
    }
    !d.is_empty()
        && d.len() <= 63 * 4
        && !NOT_HOSTS.contains(&d)
        && d.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && d.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && (d.chars().any(|c| c.is_ascii_digit()) || d.matches('.').count() >= 2)
        && !d.starts_with("application_")
        && !d.starts_with("container_")
}

/// Logger names and markers that say which service wrote a log, checked in this order.
const CONTENT_MARKERS: &[(&str, &Service)] = &[
    ("org.apache.hadoop.hdfs.server.namenode", &NAMENODE),
    ("org.apache.hadoop.hdfs.server.datanode", &DATANODE),
    (
        "org.apache.hadoop.yarn.server.resourcemanager",
        &RESOURCEMANAGER,
    ),
    ("org.apache.hadoop.yarn.server.nodemanager", &NODEMANAGER),
    ("org.apache.hadoop.mapreduce.v2.app", &MR_AM),
    ("[tserver.TabletServer]", &TSERVER),
    ("[master.Master]", &MASTER),
    ("[manager.Manager]", &MASTER),
    ("[gc.SimpleGarbageCollector]", &ACC_GC),
    ("[monitor.Monitor]", &ACC_MONITOR),
    ("(kafka.server.", &KAFKA),
    ("[myid:", &ZOOKEEPER),
    ("QuorumPeer", &ZOOKEEPER),
    ("executor.CoarseGrainedExecutorBackend", &SPARK_EXECUTOR),
    ("CoarseGrainedExecutorBackend:", &SPARK_EXECUTOR),
    ("SparkContext: ", &SPARK_DRIVER),
    ("yarn.ApplicationMaster: ", &SPARK_DRIVER),
    ("scheduler.DAGScheduler", &SPARK_DRIVER),
    ("com.koverse", &KOVERSE_SERVER),
    ("LOG:  database system", &POSTGRESQL),
];

/// Fills in the service of a file whose path did not name it, from the logger names in its
/// first block (a Hadoop daemon log renamed `current.log` still says
/// `org.apache.hadoop.hdfs.server.datanode`).
pub fn refine_by_content(origin: &mut Origin, head: &[u8]) {
    static MARKERS: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::OnceLock::new();
    if origin.service.is_some() {
        return;
    }
    let markers = MARKERS.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(CONTENT_MARKERS.iter().map(|(m, _)| m))
            .ok()
    });
    let Some(ac) = markers else { return };
    // One pass over the first 4 KiB (the loggers of the first lines); among the markers found,
    // the earliest in the list wins (where two start at one place, too: leftmost-first).
    let head = &head[..head.len().min(4 * 1024)];
    let found = ac.find_iter(head).map(|m| m.pattern().as_usize()).min();
    if let Some((_, s)) = found.map(|i| &CONTENT_MARKERS[i]) {
        origin.service = Some(s.name);
        origin.component = Some(s.component);
        origin.layer = Some(s.layer);
    }
}

/// Folder names that name a service's logs (a folder holding one is a host's).
fn is_service_folder(d: &str) -> bool {
    NOT_HOSTS.contains(&d) && !matches!(d, "var" | "opt" | "srv" | "tmp" | "home" | "data")
}

/// Classifies a log by its path: service, component, layer, and what the path says of its host.
pub fn classify_path(path: &str) -> (Origin, HostClue) {
    let parts: Vec<&str> = path
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let Some((name, dirs)) = parts.split_last() else {
        return (Origin::default(), HostClue::default());
    };
    let (service, named) = match by_name(name, dirs) {
        Some((s, h)) => (Some(s), h),
        None => (by_dir(dirs), None),
    };
    let mut folders = Vec::new();
    for (i, d) in dirs.iter().enumerate().rev() {
        if looks_like_host(d) {
            folders.push(FolderClue {
                parent: dirs[..i].join("/"),
                name: d.to_string(),
                holds_service_folder: dirs.get(i + 1).is_some_and(|c| is_service_folder(c)),
            });
        }
    }
    let origin = Origin {
        service: service.map(|s| s.name),
        component: service.map(|s| s.component),
        layer: service.map(|s| s.layer),
        ..Origin::default()
    };
    (
        origin,
        HostClue {
            named,
            folders,
            fallback: None,
        },
    )
}

/// Classifies one log on its own (no other paths to weigh the folders against): the host is
/// the one the file names, or a folder the path alone shows to be a host's.
pub fn classify(path: &str) -> Origin {
    let (mut origin, clue) = classify_path(path);
    let mut hosts = super::hosts::Hosts::default();
    hosts.add(&clue);
    origin.host = hosts.resolve(&clue);
    origin
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(p: &str) -> (Option<&'static str>, Option<String>) {
        let o = classify(p);
        (o.service, o.host)
    }

    #[test]
    fn content_names_the_service_when_the_path_does_not() {
        let mut o = classify("incident/dn7/hadoop/current.log");
        refine_by_content(&mut o, b"2022-12-02 15:22:04,287 INFO org.apache.hadoop.hdfs.server.datanode.DataNode: STARTUP_MSG");
        assert_eq!(
            (o.service, o.host.as_deref()),
            (Some("datanode"), Some("dn7"))
        );
        let mut o = classify("x/console.txt");
        refine_by_content(
            &mut o,
            b"Spark_2k 17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered",
        );
        assert_eq!(o.service, Some("spark-executor"));
        let mut o = classify("x/hadoop-hdfs-namenode-nn1.log");
        refine_by_content(&mut o, b"[tserver.TabletServer]");
        assert_eq!(o.service, Some("namenode"), "the path wins");
    }

    #[test]
    fn services_and_hosts() {
        assert_eq!(
            c("/var/log/hadoop/hdfs/hadoop-hdfs-datanode-dn1.example.com.log"),
            (Some("datanode"), Some("dn1".into()))
        );
        assert_eq!(
            c("logs/yarn-yarn-nodemanager-worker3.log.2"),
            (Some("nodemanager"), Some("worker3".into()))
        );
        assert_eq!(
            c("/var/log/accumulo/tserver_node3.log"),
            (Some("tserver"), Some("node3".into()))
        );
        assert_eq!(
            c("/var/log/accumulo/master_node1.debug.log"),
            (Some("accumulo-master"), Some("node1".into()))
        );
        assert_eq!(
            c("incident/zk2/zookeeper/zookeeper.out"),
            (Some("zookeeper"), Some("zk2".into()))
        );
        assert_eq!(
            c("nn1/postgresql/postgresql-2024-03-11_000000.log"),
            (Some("postgresql"), Some("nn1".into()))
        );
        assert_eq!(
            c("app1/koverse-server/koverse-server.log.3.gz"),
            (Some("koverse-server"), Some("app1".into()))
        );
        assert_eq!(
            c("app1/koverse-server/server.err"),
            (Some("spark-driver"), Some("app1".into()))
        );
        assert_eq!(
            c("app1/koverse-server/stdout"),
            (Some("koverse-server"), Some("app1".into()))
        );
        assert_eq!(
            c("app1/kafka/server.log"),
            (Some("kafka"), Some("app1".into()))
        );
        assert_eq!(c("random.log"), (None, None));
        // An excerpt (`.linesA-B`, before or after `.log`) names the same host as the log.
        for p in [
            "tests/real/hdfs/hadoop-root-datanode-ip-172-31-2-135.lines1-785.log",
            "x/hadoop-root-datanode-ip-172-31-2-135.log.lines1-785",
        ] {
            let (o, clue) = classify_path(p);
            assert_eq!(o.service, Some("datanode"), "{p}");
            assert_eq!(clue.named.as_deref(), Some("ip-172-31-2-135"), "{p}");
        }
        // Only `.lines` + two numbers is an excerpt: a host may have `lines` in its name.
        assert_eq!(
            classify_path("x/yarn-yarn-nodemanager-dn1.lines.example.com.log")
                .1
                .named
                .as_deref(),
            Some("dn1.lines.example.com")
        );
        assert_eq!(
            classify("x/hadoop-hdfs-namenode-nn1.log").layer,
            Some(Layer::StorageCoordination)
        );
    }
}
