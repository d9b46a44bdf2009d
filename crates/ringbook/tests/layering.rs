//! No layer imports the layer above it: the pipeline knows nothing of the manager, and
//! the books, journal, flow formats, registry, subscribers and recovery know nothing of
//! either. Checked on the source text, so a new import of an upper layer fails here.

use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `path` (or `path` itself), in a stable order.
fn sources(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut files = Vec::new();
    let mut entries: Vec<PathBuf> = fs::read_dir(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            files.extend(sources(&entry));
        } else if entry.extension().is_some_and(|ext| ext == "rs") {
            files.push(entry);
        }
    }
    files
}

/// Each line of the modules under `modules` (relative to `src/`) that names one of
/// `upper`, as `file:line: text`.
fn imports_of(modules: &[&str], upper: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for module in modules {
        for file in sources(&src.join(module)) {
            let text = fs::read_to_string(&file).unwrap();
            for (number, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for layer in upper {
                    let paths = [
                        format!("crate::{layer}"),
                        format!("super::{layer}::"),
                        format!("super::super::{layer}"),
                    ];
                    if paths.iter().any(|path| code.contains(path.as_str())) {
                        found.push(format!(
                            "{}:{}: {}",
                            file.display(),
                            number + 1,
                            line.trim()
                        ));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn the_pipeline_does_not_import_the_manager() {
    let found = imports_of(&["pipeline"], &["manager"]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_lower_layers_import_neither_the_manager_nor_the_pipeline() {
    let lower = [
        "book",
        "journal",
        "flow",
        "subscriber",
        "registry.rs",
        "result.rs",
        "types.rs",
        "command.rs",
        "recovery.rs",
        "direct.rs",
        "sync.rs",
        "id_hash.rs",
    ];
    let found = imports_of(&lower, &["manager", "pipeline"]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_check_finds_an_import_where_there_is_one() {
    // The manager imports the pipeline: the check must see it, or it proves nothing.
    let found = imports_of(&["manager"], &["pipeline"]);
    assert!(
        found.iter().any(|line| line.contains("service.rs")),
        "{found:#?}"
    );
}
