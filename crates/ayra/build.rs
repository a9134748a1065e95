//! Generates the API client from the spec at build time (see ARCHITECTURE.md).

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let spec = manifest.join("../../spec/ayra.yaml");
    println!("cargo:rerun-if-changed={}", spec.display());
    let generated = match ayra_gen::generate(&spec, &ayra_gen::Settings::default()) {
        Ok(generated) => generated,
        Err(failure) => {
            // One line per problem, so cargo shows them all.
            for line in failure.to_string().lines() {
                println!("cargo::error={line}");
            }
            std::process::exit(1);
        }
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("ayra.rs");
    if let Err(e) = std::fs::write(&out, generated.code) {
        println!("cargo::error=cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
}
