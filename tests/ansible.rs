//! contrib/ansible/sweep.yml run by the real `ansible-playbook` (ansible-core; `.ci/run`
//! installs it with pip when missing, and without it these tests say they were skipped):
//! three hosts (`ansible_connection=local`), each pointed at one host's folder of the fixture
//! cluster, swept and merged on the controller into the report one scan of the whole cluster
//! gives; a host that cannot be reached and one whose scan fails are listed in its errors.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const HOSTS: [&str; 3] = ["dn1", "dn2", "nn1"];

fn playbook() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("ansible-playbook"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        println!("skipped: ansible-playbook not installed (pip install ansible-core)");
    }
    found
}

/// A cluster of `HOSTS`, copied from the fixture cluster into `root/cluster`.
fn cluster(root: &Path) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster");
    let to = root.join("cluster");
    std::fs::create_dir_all(&to).unwrap();
    for h in HOSTS {
        let status = Command::new("cp")
            .arg("-r")
            .arg(from.join(h))
            .arg(to.join(h))
            .status()
            .unwrap();
        assert!(status.success());
    }
    to
}

/// Runs the playbook over `inventory` (its lines under `[cluster]`); the merged report.
fn sweep(root: &Path, inventory: &[String]) -> (Value, String) {
    let inv = root.join("inventory");
    let python = ["python3", "python"]
        .iter()
        .find_map(|p| {
            let out = Command::new(p)
                .args(["-c", "import sys; print(sys.executable)"])
                .output()
                .ok()?;
            Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
        })
        .unwrap();
    std::fs::write(
        &inv,
        format!(
            "[cluster]\n{}\n[cluster:vars]\nansible_connection=local\nansible_python_interpreter={python}\n",
            inventory.join("\n")
        ),
    )
    .unwrap();
    let out_dir = root.join("out");
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/ansible/sweep.yml");
    let run = Command::new(playbook().unwrap())
        .arg("-i")
        .arg(&inv)
        .arg(book)
        .arg("-e")
        .arg(format!("logtriage_bin={}", env!("CARGO_BIN_EXE_logtriage")))
        .arg("-e")
        .arg(format!("logtriage_out={}", out_dir.display()))
        .arg("-e")
        .arg(r#"{"logtriage_args": ["--tz=UTC"]}"#)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_HOST_KEY_CHECKING", "False")
        .current_dir(root)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let merged = std::fs::read_to_string(out_dir.join("merged.json"))
        .unwrap_or_else(|e| panic!("no merged.json ({e}):\n{said}"));
    for other in ["report.md", "report.html"] {
        assert!(out_dir.join(other).is_file(), "no {other}:\n{said}");
    }
    for h in HOSTS {
        assert!(
            out_dir.join(format!("reports/{h}.json")).is_file(),
            "{said}"
        );
    }
    (serde_json::from_str(&merged).unwrap(), said)
}

/// One scan of the whole cluster, as a document without the sweep's duration, the inputs
/// (the folders given differ: one each per host, or the cluster's) and the merge section
/// (each stream records the --host it was swept with).
fn without_what_differs(mut v: Value) -> Value {
    let scan = v["scan"].as_object_mut().unwrap();
    scan.remove("duration_ms");
    scan.remove("inputs");
    v.as_object_mut().unwrap().remove("merge");
    v
}

fn one_scan(cluster: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_logtriage"))
        .args(["scan", "-q", "--tz=UTC", "--format=json"])
        .arg(cluster)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn host_line(cluster: &Path, h: &str) -> String {
    format!("{h} logtriage_paths='[\"{}\"]'", cluster.join(h).display())
}

#[test]
fn a_playbook_sweep_of_three_hosts_is_one_scan_of_the_cluster() {
    if playbook().is_none() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let cluster = cluster(root.path());
    let inventory: Vec<String> = HOSTS.iter().map(|h| host_line(&cluster, h)).collect();
    let (merged, said) = sweep(root.path(), &inventory);
    let want = without_what_differs(one_scan(&cluster));
    let got = without_what_differs(merged);
    assert!(want["findings"].as_array().unwrap().len() > 10);
    assert_eq!(want, got, "the playbook's merged.json differs:\n{said}");
}

#[test]
fn hosts_that_give_no_report_are_in_the_errors_and_the_rest_is_merged() {
    if playbook().is_none() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let cluster = cluster(root.path());
    let mut inventory: Vec<String> = HOSTS.iter().map(|h| host_line(&cluster, h)).collect();
    // Nothing listens on port 1 of the loopback address: unreachable at once.
    inventory.push("zk9 ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=1".into());
    inventory.push(format!(
        "empty logtriage_paths='[\"{}\"]'",
        root.path().join("no-such-folder").display()
    ));
    let (merged, said) = sweep(root.path(), &inventory);
    let errors: Vec<(String, String)> = merged["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        errors
            .iter()
            .any(|(p, m)| p == "zk9" && m.contains("unreachable")),
        "{errors:?}\n{said}"
    );
    assert!(
        errors
            .iter()
            .any(|(p, m)| p == "empty" && m.contains("none of the log paths exist")),
        "{errors:?}"
    );
    let want = one_scan(&cluster);
    assert_eq!(want["findings"], merged["findings"]);
    assert_eq!(want["incidents"], merged["incidents"]);
}
