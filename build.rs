//! Embeds every `rules/*.toml` pack into the binary (see `src/rules/builtin.rs`).
use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=rules");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut packs: Vec<_> = fs::read_dir(&dir)
        .expect("rules/ folder")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    packs.sort();
    let mut out = String::from("pub static BUILTIN_PACKS: &[(&str, &str)] = &[\n");
    for p in &packs {
        println!("cargo:rerun-if-changed={}", p.display());
        let name = p.file_name().unwrap().to_string_lossy();
        out.push_str(&format!(
            "    (\"rules/{name}\", include_str!({:?})),\n",
            p.display().to_string()
        ));
    }
    out.push_str("];\n");
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("builtin_packs.rs"),
        out,
    )
    .unwrap();
}
