//! The packs of `rules/*.toml`, embedded at build time by `build.rs`.

include!(concat!(env!("OUT_DIR"), "/builtin_packs.rs"));
