//! One name per machine. The same host reaches a sweep under several names: a bundle's folder
//! (`incident/host2/`), a daemon's file name (`hadoop-hdfs-datanode-host2.example.com.log`), a
//! YARN banner (`host2.example.com_45454`), `--host`. `Hosts` gathers the clues of every stream
//! of a sweep and names each machine once: by its short name (the first label), unless two
//! different machines share that short name, then by the full name it was given.
//!
//! A folder names a host only on evidence: a host named elsewhere in the sweep has its name, or
//! it looks like a machine's full name or address (`node3.example.com`, `10.0.0.7`,
//! `ip-10-0-0-7`), or it holds a folder of a service's logs (`dn1/hadoop-hdfs/`), or it is one
//! of several sibling folders of logs (`incident/dn1/`, `incident/dn2/`). A scan of
//! `/tmp/tmp.X3f/koverse-server.log` therefore has no host (or `--host`'s).

use std::collections::{BTreeMap, BTreeSet};

use super::origin::{FolderClue, HostClue};

#[derive(Clone, Debug, Default)]
pub struct Hosts {
    /// `--host`: the host of streams whose clues name none.
    default: Option<String>,
    /// Names given outright (file names, YARN banners, `--host`), as given.
    named: BTreeSet<String>,
    /// Short name -> the full names (with a domain) given for it.
    full_by_short: BTreeMap<String, BTreeSet<String>>,
    /// Candidate host folders, by the folder that holds them.
    folders: BTreeMap<String, BTreeSet<String>>,
}

/// Where a machine keeps its own logs: a file there, swept on that machine, is that
/// machine's unless its path names another (`scan` without `--host`).
pub const OWN_LOGS: &str = "/var/log/";

/// Is `path` (made absolute from the current folder) one of this machine's own logs?
pub fn is_own_log(path: &std::path::Path) -> bool {
    std::path::absolute(path).is_ok_and(|p| p.starts_with(OWN_LOGS))
}

/// This machine's name (the kernel's), if it has one.
pub fn this_machine() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|f| std::fs::read_to_string(f).ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty() && n != "localhost")
}

/// `10.0.0.7` (never shortened).
pub fn is_ip(name: &str) -> bool {
    name.parse::<std::net::Ipv4Addr>().is_ok()
}

/// The first label of a machine's name: `host2` for `host2.example.com`.
pub fn short_name(name: &str) -> &str {
    if is_ip(name) {
        return name;
    }
    name.split('.').next().unwrap_or(name)
}

/// A folder named like a machine's full name or address needs no other evidence.
fn is_full_name_or_address(name: &str) -> bool {
    is_ip(name)
        || (name.starts_with("ip-") && name[3..].split('-').count() == 4)
        || (name.matches('.').count() >= 2
            && name
                .rsplit('.')
                .next()
                .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())))
}

impl Hosts {
    pub fn new(default: Option<String>) -> Self {
        let mut h = Hosts::default();
        if let Some(d) = &default {
            h.add_name(d);
        }
        h.default = default;
        h
    }

    /// `--host` (the fallback of streams naming no host), for the sweep's `streams` record.
    pub fn default_name(&self) -> Option<&str> {
        self.default.as_deref()
    }

    /// A machine's name given outright (a merged sweep's `--host`): it names folders too.
    pub fn add_given(&mut self, name: &str) {
        self.add_name(name);
    }

    fn add_name(&mut self, name: &str) {
        self.named.insert(name.to_string());
        if name.contains('.') && !is_ip(name) {
            self.full_by_short
                .entry(short_name(name).to_string())
                .or_default()
                .insert(name.to_string());
        }
    }

    /// Adds one stream's clues.
    pub fn add(&mut self, clue: &HostClue) {
        if let Some(n) = &clue.named {
            self.add_name(n);
        }
        for f in &clue.folders {
            self.folders
                .entry(f.parent.clone())
                .or_default()
                .insert(f.name.clone());
            if is_full_name_or_address(&f.name) {
                self.add_name(&f.name);
            }
        }
    }

    /// Is this folder a host's, on the evidence of the whole sweep?
    fn folder_is_host(&self, f: &FolderClue) -> bool {
        let short = short_name(&f.name);
        is_full_name_or_address(&f.name)
            || f.holds_service_folder
            || self.named.iter().any(|n| short_name(n) == short)
            || self.folders.get(&f.parent).is_some_and(|s| s.len() >= 2)
    }

    /// The name the sweep gives a machine known as `name`.
    pub fn canonical(&self, name: &str) -> String {
        let short = short_name(name);
        let machines = self.full_by_short.get(short).map_or(0, BTreeSet::len);
        if machines >= 2 {
            // Two machines share the short name: each keeps the full name it was given.
            name.to_string()
        } else {
            short.to_string()
        }
    }

    /// The name under which a stream's clues were seen (before `canonical`), if they name a host.
    pub fn seen_as<'c>(&'c self, clue: &'c HostClue) -> Option<&'c str> {
        if let Some(n) = &clue.named {
            return Some(n);
        }
        clue.folders
            .iter()
            .find(|f| self.folder_is_host(f))
            .map(|f| f.name.as_str())
            .or(clue.fallback.as_deref())
            .or(self.default.as_deref())
    }

    /// The host of a stream with these clues: the name it gives, else its deepest folder that
    /// is a host's, else `--host`; as the sweep names that machine.
    pub fn resolve(&self, clue: &HostClue) -> Option<String> {
        self.seen_as(clue).map(|n| self.canonical(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::origin::classify_path;

    fn sweep(paths: &[&str], default: Option<&str>) -> Vec<Option<String>> {
        let mut hosts = Hosts::new(default.map(str::to_string));
        let clues: Vec<HostClue> = paths.iter().map(|p| classify_path(p).1).collect();
        clues.iter().for_each(|c| hosts.add(c));
        clues.iter().map(|c| hosts.resolve(c)).collect()
    }

    fn names(v: &[Option<String>]) -> Vec<&str> {
        v.iter().map(|h| h.as_deref().unwrap_or("-")).collect()
    }

    #[test]
    fn short_and_full_names_of_one_machine_are_one_host() {
        let got = sweep(
            &[
                "b.tgz!/host2/hadoop/hadoop-hdfs-datanode-host2.example.com.log",
                "b.tgz!/host2/accumulo/tserver_host2.example.com.log",
                "b.tgz!/host2/koverse-server/koverse-server.log",
                "b.tgz!/host3/zookeeper.out",
            ],
            None,
        );
        assert_eq!(names(&got), ["host2", "host2", "host2", "host3"]);
    }

    #[test]
    fn excerpts_of_one_machines_logs_name_one_host() {
        // `.linesA-B` excerpts (tests/real/) are not two machines `ip-...135.lines1-785` and
        // `ip-...135.lines1-1200` that share a short name.
        let got = sweep(
            &[
                "hdfs/hadoop-root-datanode-ip-172-31-2-135.lines1-785.log",
                "yarn/yarn-root-nodemanager-ip-172-31-2-135.lines1-1200.log",
            ],
            None,
        );
        assert_eq!(names(&got), ["ip-172-31-2-135", "ip-172-31-2-135"]);
    }

    #[test]
    fn two_machines_with_one_short_name_keep_their_full_names() {
        let got = sweep(
            &[
                "x/hadoop-hdfs-datanode-host2.east.example.com.log",
                "x/hadoop-hdfs-datanode-host2.west.example.com.log",
                "x/hadoop-hdfs-datanode-host3.west.example.com.log",
            ],
            None,
        );
        assert_eq!(
            names(&got),
            ["host2.east.example.com", "host2.west.example.com", "host3"]
        );
    }

    #[test]
    fn a_folder_is_a_host_only_on_evidence() {
        // A temporary folder holding one log is nobody's host.
        assert_eq!(
            names(&sweep(&["/tmp/tmp.X3fa9/koverse-server.log"], None)),
            ["-"]
        );
        // --host names the machine of inputs that name none.
        assert_eq!(
            names(&sweep(&["/tmp/tmp.X3fa9/koverse-server.log"], Some("app1"))),
            ["app1"]
        );
        // A folder holding a service's log folder.
        assert_eq!(
            names(&sweep(
                &["/tmp/t/app1/koverse-server/koverse-server.log"],
                None
            )),
            ["app1"]
        );
        // Sibling folders of logs.
        assert_eq!(
            names(&sweep(
                &["inc/dn1/current.log", "inc/dn2/current.log"],
                None
            )),
            ["dn1", "dn2"]
        );
        // A full name or an address.
        assert_eq!(
            names(&sweep(
                &["inc/node3.example.com/x.log", "inc2/10.0.0.7/y.log"],
                None
            )),
            ["node3", "10.0.0.7"]
        );
        // A name given elsewhere in the sweep.
        assert_eq!(
            names(&sweep(
                &[
                    "a/dn7/current.log",
                    "b/hadoop-hdfs-datanode-dn7.example.com.log"
                ],
                None
            )),
            ["dn7", "dn7"]
        );
    }
}
