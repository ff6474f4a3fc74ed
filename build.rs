//! Compiles the default theme into the binary: one `include_bytes!` per file under
//! `themes/default`, so a site without a `themes/` folder still builds.

use std::fs;
use std::path::Path;

fn collect(dir: &Path, base: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = fs::read_dir(dir).expect("themes/default is readable").flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, base, out);
        } else if !entry.file_name().to_string_lossy().starts_with('.') {
            let rel = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
            out.push(rel);
        }
    }
}

fn main() {
    // Read at run time: one compiled build script may serve several checkouts.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let base = Path::new(&manifest).join("themes/default");
    println!("cargo:rerun-if-changed=themes/default");
    let mut files = Vec::new();
    if base.is_dir() {
        collect(&base, &base, &mut files);
    }
    let mut code =
        String::from("/// (path under themes/default, contents)\npub(crate) static FILES: &[(&str, &[u8])] = &[\n");
    for rel in &files {
        println!("cargo:rerun-if-changed=themes/default/{rel}");
        code.push_str(&format!(
            "    ({rel:?}, include_bytes!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/themes/default/{rel}\"))),\n"
        ));
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("default_theme.rs");
    fs::write(out, code).unwrap();
}
